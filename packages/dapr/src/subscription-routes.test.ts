// Dapr subscription endpoints: single and bulk deliveries, contract checks, per-entry statuses.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import express from "express";
import pino from "pino";
import { bulkSubscriptionRoute, subscriptionRoute, type BulkEvent } from "./subscriptions.js";

const voided = () => ({
  orderId: randomUUID(),
  tenantId: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b00",
  locationId: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01",
  businessDay: "2026-11-20",
  voidedAt: "2026-11-20T06:00:00.000Z",
  totalVnd: 55_000,
});
const cloudEvent = (id: string, type: string, data: unknown) => ({ id, type, data, specversion: "1.0" });

let server: Server;
let base: string;
const handled: string[] = [];
let batches: BulkEvent[][] = [];

before(async () => {
  const app = express();
  app.use(express.json());
  const log = pino({ level: "silent" });
  subscriptionRoute(
    app,
    "/single",
    {
      "order.voided": async (id) => {
        if (id === "boom") throw new Error("database down");
        handled.push(id);
      },
    },
    log,
  );
  bulkSubscriptionRoute(
    app,
    "/bulk",
    ["order.voided"],
    async (events) => {
      batches.push(events);
      return new Map(
        events.map((e) => [e.entryId, e.eventId === "retry-me" ? ("RETRY" as const) : ("SUCCESS" as const)]),
      );
    },
    log,
  );
  server = app.listen(0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server?.close());

const post = async (route: string, body: unknown) => {
  const res = await fetch(`${base}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

test("single delivery: handled, other types acknowledged, broken contracts dropped, failures retried", async () => {
  assert.deepEqual(await post("/single", cloudEvent("e1", "order.voided", voided())), {
    status: 200,
    body: { status: "SUCCESS" },
  });
  assert.deepEqual(handled, ["e1"]);
  assert.deepEqual((await post("/single", cloudEvent("e2", "order.created", {}))).body, {
    status: "SUCCESS",
  });
  assert.deepEqual((await post("/single", cloudEvent("e3", "order.voided", { orderId: 1 }))).body, {
    status: "DROP",
  });
  assert.deepEqual((await post("/single", { hello: "world" })).body, { status: "DROP" });
  assert.deepEqual(await post("/single", cloudEvent("boom", "order.voided", voided())), {
    status: 500,
    body: { status: "RETRY" },
  });
  assert.deepEqual(handled, ["e1"], "only the handled event reached the handler");
});

test("bulk delivery: one call for the batch, a status per entry", async () => {
  batches = [];
  const res = await post("/bulk", {
    entries: [
      { entryId: "a", event: cloudEvent("ok-1", "order.voided", voided()) },
      { entryId: "b", event: cloudEvent("retry-me", "order.voided", voided()) },
      { entryId: "c", event: cloudEvent("bad", "order.voided", { orderId: 1 }) },
      { entryId: "d", event: cloudEvent("other", "order.created", {}) },
      { entryId: "e", event: { not: "a cloud event" } },
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.statuses, [
    { entryId: "a", status: "SUCCESS" },
    { entryId: "b", status: "RETRY" },
    { entryId: "c", status: "DROP" },
    { entryId: "d", status: "SUCCESS" },
    { entryId: "e", status: "DROP" },
  ]);
  assert.deepEqual(
    batches.map((b) => b.map((e) => e.eventId)),
    [["ok-1", "retry-me"]],
  );
  // A single delivery to the bulk route is a batch of one, answered like subscriptionRoute.
  assert.deepEqual(await post("/bulk", cloudEvent("retry-me", "order.voided", voided())), {
    status: 500,
    body: { status: "RETRY" },
  });
});
