import assert from "node:assert/strict";
import { test } from "node:test";
import { newerOnly } from "./dashboard-live.js";

const at = (version: number | undefined, businessDay = "2026-11-30") => ({ businessDay, version });

test("an update older than the last one a subscriber got is dropped, whatever order they arrive in", () => {
  const fresh = newerOnly();
  // 4 then 5 arrive, then a late 4 (a replica's outbox, a concurrent delivery): the tile stays at 5.
  assert.deepEqual([at(4), at(5), at(4), at(5), at(6)].map(fresh), [true, true, false, false, true]);
});

test("a new business day starts its versions again; updates without a version always pass", () => {
  const fresh = newerOnly();
  assert.equal(fresh(at(57, "2026-11-29")), true);
  assert.equal(fresh(at(1, "2026-11-30")), true);
  assert.equal(fresh(at(1, "2026-11-30")), false);
  assert.equal(fresh(at(undefined)), true);
  assert.equal(fresh(at(2, "2026-11-30")), true);
});

test("each subscriber keeps its own last version", () => {
  const [one, two] = [newerOnly(), newerOnly()];
  assert.equal(one(at(9)), true);
  assert.equal(two(at(3)), true);
  assert.equal(one(at(3)), false);
});
