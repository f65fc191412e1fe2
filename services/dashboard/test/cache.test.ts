import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@lsp/runtime";
import { reportCache, type StateApi } from "../src/cache.js";

const log = createLogger("test", "silent");
const ports = { daprHttpPort: 1, daprGrpcPort: 2 } as unknown as Parameters<typeof reportCache>[0];

/**
 * Dapr state over Redis as the cache uses it: GET answers 204 for a missing key and the value
 * with its ETag; a save with `first-write` succeeds only if the ETag still matches (or, without
 * one, if the key is still absent), else 409.
 */
function fakeState(): StateApi & { raw: Map<string, { value: unknown; etag: number }> } {
  const raw = new Map<string, { value: unknown; etag: number }>();
  let etags = 0;
  return {
    raw,
    get: (key) => {
      const hit = raw.get(key);
      return Promise.resolve(
        hit
          ? new Response(JSON.stringify(hit.value), { headers: { etag: String(hit.etag) } })
          : new Response(null, { status: 204 }),
      );
    },
    save: (items) => {
      for (const item of items as { key: string; value: unknown; etag?: string }[]) {
        const current = raw.get(item.key);
        const fresh = item.etag === undefined ? !current : current?.etag === Number(item.etag);
        if (!fresh) return Promise.resolve(new Response(null, { status: 409 }));
        raw.set(item.key, { value: item.value, etag: ++etags });
      }
      return Promise.resolve(new Response(null, { status: 204 }));
    },
    transaction: (operations) => {
      for (const op of operations as { request: { key: string } }[]) raw.delete(op.request.key);
      return Promise.resolve(new Response(null, { status: 204 }));
    },
  };
}

const report = (version: number, orders: number) => ({ version, orders });

test("a reader that computed a report before an event cannot store it after the event moved an uncached report", async () => {
  const state = fakeState();
  const cache = reportCache(ports, log, state);
  // The reader misses and computes version 3; meanwhile an event commits version 4.
  assert.equal(await cache.get("k"), null);
  assert.equal(await cache.advance("k", 4), "cold", "nobody had cached it: no recomputation");
  await cache.put("k", report(3, 30));
  assert.equal(await cache.get("k"), null, "the old figures were refused; the next reader computes");
  await cache.put("k", report(4, 40));
  assert.deepEqual(await cache.get("k"), report(4, 40));
});

test("an event on a cached report asks for a recomputation and leaves the report readable meanwhile", async () => {
  const state = fakeState();
  const cache = reportCache(ports, log, state);
  await cache.put("k", report(4, 40));
  assert.equal(await cache.advance("k", 5), "warm");
  assert.deepEqual(await cache.get("k"), report(4, 40), "the report stays until its recomputation lands");
  await cache.put("k", report(5, 50));
  await cache.put("k", report(4, 40));
  assert.deepEqual(await cache.get("k"), report(5, 50), "never replaced by an older version");
});

test("floors only rise, and a report at or above a floor replaces it", async () => {
  const state = fakeState();
  const cache = reportCache(ports, log, state);
  assert.equal(await cache.advance("k", 7), "cold");
  assert.equal(await cache.advance("k", 6), "cold", "an older event's floor changes nothing");
  await cache.put("k", report(6, 60));
  assert.equal(await cache.get("k"), null);
  await cache.put("k", report(8, 80));
  assert.deepEqual(await cache.get("k"), report(8, 80));
});

test("a cache that does not answer costs a miss and a recomputation by the reader, never an error", async () => {
  const down: StateApi = {
    get: () => Promise.resolve(new Response(null, { status: 500 })),
    save: () => Promise.resolve(new Response(null, { status: 500 })),
    transaction: () => Promise.resolve(new Response(null, { status: 500 })),
  };
  const cache = reportCache(ports, log, down);
  assert.equal(await cache.get("k"), null);
  assert.equal(await cache.advance("k", 1), "cold");
  await cache.put("k", report(1, 10));
});
