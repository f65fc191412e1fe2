// BIGINT (int8) columns (VND sums, counts) are read as exact numbers, or refused beyond 2^53 − 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseInt8Exact } from "./int8.js";

const BIG = 5_490_000_000; // the 100-line banquet order of issue 12, above GraphQL Int's 2^31 − 1
const MAX_VND = Number.MAX_SAFE_INTEGER;

test("BIGINT text from PostgreSQL is read exactly or refused", () => {
  assert.equal(parseInt8Exact("5490000000"), BIG);
  assert.equal(parseInt8Exact("-9007199254740991"), -MAX_VND);
  assert.throws(() => parseInt8Exact("9007199254740993"), RangeError);
});
