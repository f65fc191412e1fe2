import { test } from "node:test";
import assert from "node:assert/strict";
import { idsStaleAfter } from "../src/menu-events.js";
import { ResponseCache, idsOf } from "../src/response-cache.js";

const TENANT = "11111111-1111-4111-8111-111111111111";
const OTHER_TENANT = "22222222-2222-4222-8222-222222222222";
const LOCATION = "33333333-3333-4333-8333-333333333333";
const ITEM = "44444444-4444-4444-8444-444444444444";
const change = {
  itemId: ITEM,
  tenantId: TENANT,
  name: "Phở tái",
  category: "Phở",
  priceVnd: 65_000,
  available: true,
  changedAt: "2026-11-29T10:00:00+07:00",
};

test("a change at one location names the item and that location", () => {
  assert.deepEqual(idsStaleAfter({ ...change, locationId: LOCATION }), [ITEM, LOCATION]);
});

test("a tenant-wide change names the item and the tenant", () => {
  assert.deepEqual(idsStaleAfter(change), [ITEM, TENANT]);
});

test("a tenant-wide change drops that tenant's cached menus, a new item included, and no one else's", () => {
  const cache = new ResponseCache({
    EDGE_RESPONSE_CACHE_TTL_MS: 60_000,
    EDGE_RESPONSE_CACHE_MAX_ENTRIES: 100,
    EDGE_RESPONSE_CACHE_MAX_BYTES: 1_000_000,
  });
  // A menu answer cached before the item existed: it names the location, not the item.
  const menuBefore = `{"data":{"location":{"id":"${LOCATION}","menu":[]}}}`;
  const answer = (body: string, tenant: string) => ({
    contentType: "application/json",
    body,
    etag: "x",
    ids: idsOf(body, tenant),
  });
  cache.set("ours", answer(menuBefore, TENANT), cache.begin());
  cache.set(
    "theirs",
    answer(`{"data":{"location":{"id":"${LOCATION.replace("3333-4", "5555-4")}"}}}`, OTHER_TENANT),
    cache.begin(),
  );
  assert.equal(cache.dropIds(idsStaleAfter(change)), 1);
  assert.equal(cache.get("ours"), undefined);
  assert.ok(cache.get("theirs"));
});
