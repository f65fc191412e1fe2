// The location-settings cache: location.changed fills and replaces entries, so a location it
// announced is known without asking auth (here a fake sidecar that counts the calls).
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fetchLocation, rememberLocation } from "./index.js";

async function fakeAuth(answer: unknown) {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(req.url ?? "");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(answer));
  }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const ports = { DAPR_HTTP_PORT: (server.address() as AddressInfo).port, DAPR_GRPC_PORT: 1 };
  return { calls, ports, close: () => server.close() };
}

test("a location announced by location.changed is served without asking auth", async () => {
  const auth = await fakeAuth(null);
  try {
    const tenantId = randomUUID();
    const locationId = randomUUID();
    rememberLocation({
      tenantId,
      locationId,
      name: "Quận 1",
      timeZone: "Asia/Bangkok",
      cutoverHour: 5,
      occurredAt: new Date().toISOString(),
    });
    const got = await fetchLocation(auth.ports, { tenantId }, locationId);
    assert.deepEqual(got, {
      id: locationId,
      tenantId,
      name: "Quận 1",
      timeZone: "Asia/Bangkok",
      cutoverHour: 5,
    });
    assert.deepEqual(auth.calls, []);
  } finally {
    auth.close();
  }
});

test("location.changed replaces a location remembered as unknown, and changed settings", async () => {
  const auth = await fakeAuth(null); // auth: not this tenant's (yet)
  try {
    const tenantId = randomUUID();
    const locationId = randomUUID();
    await assert.rejects(fetchLocation(auth.ports, { tenantId }, locationId), { code: "NOT_FOUND" });
    assert.equal(auth.calls.length, 1);
    const changed = { tenantId, locationId, name: "Mới", occurredAt: new Date().toISOString() };
    rememberLocation({ ...changed, timeZone: "Asia/Ho_Chi_Minh", cutoverHour: 4 });
    assert.equal((await fetchLocation(auth.ports, { tenantId }, locationId)).cutoverHour, 4);
    rememberLocation({ ...changed, timeZone: "Asia/Ho_Chi_Minh", cutoverHour: 6 });
    assert.equal((await fetchLocation(auth.ports, { tenantId }, locationId)).cutoverHour, 6);
    assert.equal(auth.calls.length, 1, "auth was asked only for the location never announced");
    // Another tenant's view of the same id is not filled by this tenant's event.
    await assert.rejects(fetchLocation(auth.ports, { tenantId: randomUUID() }, locationId), {
      code: "NOT_FOUND",
    });
  } finally {
    auth.close();
  }
});

test("auth down and the location not cached: UNAVAILABLE (retry), never NOT_FOUND (an event would be dropped)", async () => {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(req.url ?? "");
    res.writeHead(503, { "content-type": "application/json" }).end('{"error":"down"}');
  }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const ports = { DAPR_HTTP_PORT: (server.address() as AddressInfo).port, DAPR_GRPC_PORT: 1 };
  try {
    const tenantId = randomUUID();
    const locationId = randomUUID();
    await assert.rejects(fetchLocation(ports, { tenantId }, locationId), { code: "UNAVAILABLE" });
    assert.equal(calls.length, 1, "auth was asked");
    // Once announced, the location is served while auth is still down.
    rememberLocation({
      tenantId,
      locationId,
      name: "Hoàn Kiếm",
      timeZone: "Asia/Ho_Chi_Minh",
      cutoverHour: 4,
      occurredAt: new Date().toISOString(),
    });
    assert.equal((await fetchLocation(ports, { tenantId }, locationId)).name, "Hoàn Kiếm");
  } finally {
    server.close();
  }
});
