// Argument checks shared by the subschemas: merge keys capped and each a UUID, ids and business
// days refused with BAD_USER_INPUT naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { AppError, MAX_MERGE_KEYS, businessDayArg, mergeKeys, uuidArg } from "./index.js";

const refused = (run: () => unknown, field: string) =>
  assert.throws(
    run,
    (e: unknown) => e instanceof AppError && e.code === "BAD_USER_INPUT" && e.details?.field === field,
  );

test("merge keys: up to the cap, each a UUID; beyond or malformed, the whole call is refused", () => {
  const ids = Array.from({ length: MAX_MERGE_KEYS }, () => randomUUID());
  assert.deepEqual(mergeKeys(ids), ids);
  assert.deepEqual(mergeKeys([]), []);
  refused(() => mergeKeys([...ids, randomUUID()]), "ids");
  refused(() => mergeKeys(Array.from({ length: 5_000 }, () => randomUUID())), "ids");
  refused(() => mergeKeys([randomUUID(), "x"]), "ids[1]");
  refused(() => mergeKeys("x"), "ids");
});

test("ids and business days", () => {
  const id = randomUUID();
  assert.equal(uuidArg(id, "id"), id);
  refused(() => uuidArg("x", "id"), "id");
  refused(() => uuidArg(42, "orderId"), "orderId");
  assert.equal(businessDayArg("2026-11-29", "businessDay"), "2026-11-29");
  assert.equal(businessDayArg("2000-01-01", "from"), "2000-01-01");
  assert.equal(businessDayArg("2099-12-31", "to"), "2099-12-31");
  for (const bad of ["0001-01-01", "1999-12-31", "2100-01-01", "2026-02-30", "29/11/2026", "", null])
    refused(() => businessDayArg(bad, "businessDay"), "businessDay");
});
