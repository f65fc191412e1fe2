import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { AppError, toAppError } from "./index.js";

test("client mistakes map to 4xx codes, anything else to an opaque INTERNAL", () => {
  assert.equal(toAppError(z.object({ a: z.number() }).safeParse({ a: "x" }).error).code, "BAD_USER_INPUT");
  assert.equal(toAppError({ type: "entity.parse.failed" }).status, 400);
  assert.equal(toAppError({ type: "entity.too.large" }).status, 413);
  const internal = toAppError(new Error("secret detail"));
  assert.equal(internal.code, "INTERNAL");
  assert.doesNotMatch(internal.message, /secret/);
  assert.equal(new AppError("NOT_FOUND", "x").status, 404);
});
