// `location(id)` in the stitched schema is answered by the edge from its location cache, not by a
// delegation to auth: auth's subschema here points at a sidecar port nobody listens on, so any
// delegation to it would fail the query. The cache is filled the way location.changed fills it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { graphql } from "graphql";
import { stitchingDirectives } from "@graphql-tools/stitching-directives";
import { AppError } from "@lsp/runtime";
import type { Identity } from "@lsp/identity";
import { rememberLocation } from "@lsp/locations";
import type { SidecarPorts } from "@lsp/dapr";
import { locationRootSchema } from "../src/location-root.js";
import { stitch } from "../src/stitching.js";
import type { EdgeContext } from "../src/context.js";

const TENANT = "7d1f0a52-3b2c-4c1d-9e8f-0a1b2c3d4e5f";
const HOAN_KIEM = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01";
const CAU_GIAY = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02";
// Nothing listens there: a delegation to auth fails.
const ports: SidecarPorts = { DAPR_HTTP_PORT: 1, DAPR_GRPC_PORT: 1 };

const { stitchingDirectivesTypeDefs } = stitchingDirectives();
const AUTH_SDL = /* GraphQL */ `
  ${stitchingDirectivesTypeDefs}
  type Location @key(selectionSet: "{ id }") {
    id: ID!
    name: String!
    timeZone: String!
    cutoverHour: Int!
  }
  type Query {
    locations: [Location!]!
    location(id: ID!): Location
    _authLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
  }
`;

const schema = stitch(ports, new Map([["auth", AUTH_SDL]]), [locationRootSchema(ports)], 1000);

for (const id of [HOAN_KIEM, CAU_GIAY])
  rememberLocation({
    tenantId: TENANT,
    locationId: id,
    name: id === HOAN_KIEM ? "Hoàn Kiếm" : "Cầu Giấy",
    timeZone: "Asia/Ho_Chi_Minh",
    cutoverHour: 4,
  } as Parameters<typeof rememberLocation>[0]);

const context = (who: Identity | null): EdgeContext => ({
  identity: () => {
    if (!who) throw new AppError("UNAUTHENTICATED", "no access token");
    return who;
  },
  forward: () => ({}),
});
const owner: Identity = { tenantId: TENANT, userId: "u-owner", role: "owner" } as Identity;

/** The AppError code under a GraphQL error (stitching may wrap it once more), else its message. */
function codeOf(err: unknown): string {
  for (let e: unknown = err; e instanceof Error; e = (e as { originalError?: unknown }).originalError)
    if (e instanceof AppError) return e.code;
  return err instanceof Error ? err.message : String(err);
}

/** The answer as plain JSON (graphql-js builds null-prototype objects), and each error's code. */
const ask = async (query: string, who: Identity | null) => {
  const res = await graphql({ schema, source: query, contextValue: context(who) });
  return {
    data: JSON.parse(JSON.stringify(res.data ?? null)) as unknown,
    codes: (res.errors ?? []).map((e) => codeOf(e)),
  };
};

test("location(id) comes from the edge's location cache, with no call to auth", async () => {
  const res = await ask(`{ location(id: "${HOAN_KIEM}") { id name timeZone cutoverHour } }`, owner);
  assert.deepEqual(res.codes, []);
  assert.deepEqual(res.data, {
    location: { id: HOAN_KIEM, name: "Hoàn Kiếm", timeZone: "Asia/Ho_Chi_Minh", cutoverHour: 4 },
  });
});

test("the check can fail: auth's own root fields still go to auth, which is not there", async () => {
  const res = await ask(`{ locations { id } }`, owner);
  assert.ok(res.codes.length > 0, "a delegation to auth fails in this test");
});

test("outside the caller's branches, or another tenant's: null, as auth answers", async () => {
  const staff = { ...owner, role: "staff", locationIds: [CAU_GIAY] } as Identity;
  const scoped = await ask(`{ location(id: "${HOAN_KIEM}") { id } }`, staff);
  assert.deepEqual(scoped.codes, []);
  assert.deepEqual(scoped.data, { location: null });
  const mine = await ask(`{ location(id: "${CAU_GIAY}") { name } }`, staff);
  assert.deepEqual(mine.data, { location: { name: "Cầu Giấy" } });
});

test("a malformed id is BAD_USER_INPUT; no caller is UNAUTHENTICATED", async () => {
  const bad = await ask(`{ location(id: "nope") { id } }`, owner);
  assert.deepEqual(bad.codes, ["BAD_USER_INPUT"]);
  const anonymous = await ask(`{ location(id: "${HOAN_KIEM}") { id } }`, null);
  assert.deepEqual(anonymous.codes, ["UNAUTHENTICATED"]);
});
