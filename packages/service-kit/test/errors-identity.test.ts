import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { AppError, identityFromHeaders, identityHeaders, toAppError } from "../src/index.js";

test("client mistakes map to 4xx codes, anything else to an opaque INTERNAL", () => {
  assert.equal(toAppError(z.object({ a: z.number() }).safeParse({ a: "x" }).error).code, "BAD_USER_INPUT");
  assert.equal(toAppError({ type: "entity.parse.failed" }).status, 400);
  assert.equal(toAppError({ type: "entity.too.large" }).status, 413);
  const internal = toAppError(new Error("secret detail"));
  assert.equal(internal.code, "INTERNAL");
  assert.doesNotMatch(internal.message, /secret/);
  assert.equal(new AppError("NOT_FOUND", "x").status, 404);
});

test("identity survives the trip through forwarded headers", () => {
  const who = {
    tenantId: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01",
    role: "staff" as const,
    userId: "u1",
    locationIds: ["5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01"],
  };
  assert.deepEqual(identityFromHeaders(identityHeaders(who)), who);
  assert.deepEqual(identityFromHeaders(new Headers(identityHeaders(who))), who);
});

test("a missing or malformed identity is UNAUTHENTICATED", () => {
  assert.throws(
    () => identityFromHeaders({}),
    (e: unknown) => e instanceof AppError && e.code === "UNAUTHENTICATED",
  );
  assert.throws(() => identityFromHeaders({ "x-lsp-tenant-id": "not-a-uuid" }), AppError);
});
