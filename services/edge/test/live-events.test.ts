// The edge's live-event streams: what Dapr delivers to the route reaches exactly the subscribers
// whose filter keeps it; a payload that breaks its contract reaches nobody.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { randomUUID } from "node:crypto";
import express from "express";
import type { DashboardUpdated } from "@lsp/contracts";
import { createLogger } from "@lsp/runtime";
import { liveEvents } from "../src/live-events.js";

const updates = liveEvents("dashboard.updated", "/events/dashboard");
let server: Server;
let url: string;

before(async () => {
  const app = express();
  app.use(express.json({ type: ["application/json", "application/cloudevents+json"] }));
  updates.mount(app, createLogger("test", "fatal"));
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events/dashboard`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Delivers a CloudEvent the way the sidecar does; returns the status Dapr would act on. */
async function deliver(type: string, data: unknown): Promise<string> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ id: randomUUID(), type, specversion: "1.0", source: "dashboard", data }),
  });
  return ((await res.json()) as { status: string }).status;
}

/** Collects what one subscriber receives until `stop` is called. */
function collect(visible: (u: DashboardUpdated) => boolean) {
  const received: DashboardUpdated[] = [];
  const iterator = updates.subscribe(visible)[Symbol.asyncIterator]();
  const loop = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      received.push(next.value);
    }
  })();
  return {
    received,
    stop: async () => {
      await iterator.return?.();
      await loop;
    },
  };
}

const update = (tenantId: string, locationId: string, revenueVnd: number): DashboardUpdated => ({
  tenantId,
  locationId,
  businessDay: "2026-11-23",
  revenueVnd,
  orders: 1,
});

test("each subscriber receives exactly the events its filter keeps", async () => {
  const [tenantA, tenantB, loc1, loc2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const loc1Watcher = collect((u) => u.tenantId === tenantA && u.locationId === loc1);
  const tenantWatcher = collect((u) => u.tenantId === tenantA);
  const other = collect((u) => u.tenantId === tenantB);
  // Let the subscriptions attach before publishing (the pub/sub keeps nothing for late comers).
  await new Promise((r) => setImmediate(r));

  assert.equal(await deliver("dashboard.updated", update(tenantA, loc1, 55_000)), "SUCCESS");
  assert.equal(await deliver("dashboard.updated", update(tenantA, loc2, 20_000)), "SUCCESS");
  // Another event type on the same route is acknowledged and ignored.
  assert.equal(await deliver("notification.created", { anything: true }), "SUCCESS");
  // A payload that breaks the contract is dropped (retrying cannot fix it) and reaches nobody.
  assert.equal(await deliver("dashboard.updated", { ...update(tenantA, loc1, 1), revenueVnd: -5 }), "DROP");
  await new Promise((r) => setImmediate(r));

  await Promise.all([loc1Watcher.stop(), tenantWatcher.stop(), other.stop()]);
  assert.deepEqual(
    loc1Watcher.received.map((u) => u.revenueVnd),
    [55_000],
  );
  assert.deepEqual(
    tenantWatcher.received.map((u) => [u.locationId, u.revenueVnd]),
    [
      [loc1, 55_000],
      [loc2, 20_000],
    ],
  );
  assert.deepEqual(other.received, []);
});
