import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryRateLimitStore, SharedRateLimitStore, type StateApi } from "./rate-limit-store.js";

/** A state API over a Map, as two edge replicas would share the cache store. */
function fakeState(): StateApi & { saved: unknown[][] } {
  const data = new Map<string, unknown>();
  const saved: unknown[][] = [];
  return {
    saved,
    get: async (key) =>
      data.has(key)
        ? new Response(JSON.stringify(data.get(key)), { status: 200 })
        : new Response(null, { status: 204 }),
    save: async (items) => {
      saved.push(items);
      for (const item of items as { key: string; value: unknown }[]) data.set(item.key, item.value);
      return new Response(null, { status: 204 });
    },
  };
}

const who = { contextIdentity: "tenant:user", fieldIdentity: "Query.orders" };

test("two replicas' stores over one state store see each other's calls", async () => {
  const state = fakeState();
  const a = new SharedRateLimitStore(state);
  const b = new SharedRateLimitStore(state);
  assert.deepEqual(await a.getForIdentity(who), []);
  await a.setForIdentity(who, [1, 2], 60_000);
  assert.deepEqual(await b.getForIdentity(who), [1, 2]);
  await b.setForIdentity(who, [1, 2, 3], 60_000);
  assert.deepEqual(await a.getForIdentity(who), [1, 2, 3]);
  assert.deepEqual(await a.getForIdentity({ ...who, fieldIdentity: "Mutation.createOrder" }), []);
});

test("each window expires with it, in whole seconds", async () => {
  const state = fakeState();
  await new SharedRateLimitStore(state).setForIdentity(who, [1], 1_500);
  assert.deepEqual(state.saved[0], [
    { key: "ratelimit|tenant:user|Query.orders", value: [1], metadata: { ttlInSeconds: "2" } },
  ]);
});

test("a store that cannot be reached counts nothing instead of failing the request", async () => {
  const down: StateApi = {
    get: () => Promise.reject(new Error("sidecar down")),
    save: () => Promise.reject(new Error("sidecar down")),
  };
  const store = new SharedRateLimitStore(down);
  assert.deepEqual(await store.getForIdentity(who), []);
  await assert.doesNotReject(store.setForIdentity(who, [1], 60_000));
  const junk: StateApi = { get: async () => new Response('"not a list"'), save: down.save };
  assert.deepEqual(await new SharedRateLimitStore(junk).getForIdentity(who), []);
});

test("the memory store keeps each caller's newest timestamps, at most the limit, apart from others", () => {
  const store = new MemoryRateLimitStore(3);
  const other = { ...who, contextIdentity: "tenant:other" };
  assert.deepEqual(store.getForIdentity(who), []);
  store.setForIdentity(who, [1, 2], 60_000);
  assert.deepEqual(store.getForIdentity(who), [1, 2]);
  // A caller past the limit: its refused calls are counted, but only the newest 3 are kept,
  // which is all the decision needs (3 in the window: the limit is reached).
  store.setForIdentity(who, [1, 2, 3, 4, 5], 60_000);
  assert.deepEqual(store.getForIdentity(who), [3, 4, 5]);
  assert.deepEqual(store.getForIdentity(other), [], "another caller's window is its own");
  assert.deepEqual(store.getForIdentity({ ...who, fieldIdentity: "Query.menu" }), []);
});

test("the memory store is bounded: the least recent caller's window goes first", () => {
  const store = new MemoryRateLimitStore(600, { maxEntries: 2, maxBytes: 1 << 20 });
  const caller = (n: number) => ({ contextIdentity: `tenant:${n}`, fieldIdentity: "Query.orders" });
  store.setForIdentity(caller(1), [1], 60_000);
  store.setForIdentity(caller(2), [2], 60_000);
  store.getForIdentity(caller(1));
  store.setForIdentity(caller(3), [3], 60_000);
  assert.deepEqual(store.getForIdentity(caller(2)), [], "the least recently used is forgotten");
  assert.deepEqual(store.getForIdentity(caller(1)), [1]);
  assert.deepEqual(store.getForIdentity(caller(3)), [3]);
});
