import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_OPERATION_NAMES, boundedOperationName } from "./metrics.js";

test("operation names are labels up to a bound; anonymous, odd and excess names are grouped", () => {
  const seen = new Set<string>();
  assert.equal(boundedOperationName(undefined, seen), "Anonymous");
  assert.equal(boundedOperationName("Dashboard", seen), "Dashboard");
  assert.equal(boundedOperationName("has space", seen), "other");
  assert.equal(boundedOperationName("x".repeat(65), seen), "other");
  for (let i = seen.size; i < MAX_OPERATION_NAMES; i++) boundedOperationName(`Op${i}`, seen);
  assert.equal(seen.size, MAX_OPERATION_NAMES);
  assert.equal(boundedOperationName("OneTooMany", seen), "other");
  assert.equal(boundedOperationName("Dashboard", seen), "Dashboard", "a known name stays itself");
});
