import { test } from "node:test";
import assert from "node:assert/strict";
import { LastGood } from "../src/ai-fallback.js";

test("last good AI answers are bounded: the least recently used go first", () => {
  const last = new LastGood<number>(2);
  last.remember("a", 1);
  last.remember("b", 2);
  assert.equal(last.recall("a")?.value, 1); // a is now more recent than b
  last.remember("c", 3);
  assert.equal(last.recall("b"), undefined);
  assert.equal(last.recall("a")?.value, 1);
  assert.equal(last.recall("c")?.value, 3);
});
