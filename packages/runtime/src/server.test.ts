import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, startService } from "./index.js";

const APP_TOKEN = "a".repeat(32);

test("only the sidecar may call an app; bodies are JSON or nothing; ops routes live apart", async () => {
  const config = {
    SERVICE_NAME: "t",
    APP_PORT: 47311,
    APP_HOST: "127.0.0.1",
    DAPR_HTTP_PORT: 1,
    DAPR_GRPC_PORT: 1,
    DAPR_API_TOKEN: "d".repeat(32),
    APP_API_TOKEN: APP_TOKEN,
    OPS_PORT: 47312,
    OPS_HOST: "127.0.0.1",
    LOG_LEVEL: "fatal" as const,
    BODY_LIMIT: "256kb",
  };
  const svc = await startService({
    config,
    log: createLogger("t", "fatal"),
    readiness: { sidecar: () => Promise.resolve(false) },
    publicRoutes: ["/pub"],
    routes(app) {
      app.post("/x", (req, res) => void res.json({ body: req.body ?? null }));
      app.post("/pub", (_req, res) => void res.json({ ok: true }));
    },
  });
  const tok = { "dapr-api-token": APP_TOKEN };
  const call = async (route: string, init: RequestInit = {}) => {
    const res = await fetch(`http://127.0.0.1:${config.APP_PORT}${route}`, { method: "POST", ...init });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  try {
    assert.deepEqual(await call("/x", { headers: tok }), { status: 200, body: { body: null } });
    assert.equal(
      (await call("/x", { headers: { ...tok, "content-type": "application/json" }, body: '{"a":1}' })).status,
      200,
    );
    // No token, a wrong one, or plain identity headers: 401 before any handler runs.
    assert.equal(
      (await call("/x", { headers: { "content-type": "application/json" }, body: "{}" })).status,
      401,
    );
    assert.equal((await call("/x", { headers: { "dapr-api-token": "b".repeat(32) } })).status, 401);
    assert.equal(
      (await call("/x", { headers: { "x-lsp-role": "system", "x-lsp-tenant-id": "t" } })).status,
      401,
    );
    // Other content types: refused once read (at most BODY_LIMIT), never handed to a route.
    assert.equal(
      (await call("/x", { headers: { ...tok, "content-type": "text/plain" }, body: "hi" })).status,
      415,
    );
    assert.equal(
      (
        await call("/x", {
          headers: { ...tok, "content-type": "application/graphql" },
          body: "x".repeat(3 << 20),
        })
      ).status,
      413,
    );
    assert.equal(
      (await call("/pub", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a=1" }))
        .status,
      415,
    );
    assert.equal(
      (await call("/pub", { headers: { "content-type": "application/json" }, body: "{}" })).status,
      200,
    );
    // /healthz for anyone; readiness and metrics only on the ops listener.
    assert.equal((await fetch(`http://127.0.0.1:${config.APP_PORT}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${config.APP_PORT}/metrics`)).status, 401);
    assert.equal((await fetch(`http://127.0.0.1:${config.OPS_PORT}/metrics`)).status, 200);
    assert.equal(
      (await fetch(`http://127.0.0.1:${config.OPS_PORT}/readyz`)).status,
      503,
      "no sidecar: not ready",
    );
  } finally {
    await svc.stop();
  }
});

test("the sidecar's health probe (/healthz/serving) fails while a dependency is down; /healthz does not", async () => {
  let databaseUp = true;
  const config = {
    SERVICE_NAME: "t",
    APP_PORT: 47313,
    APP_HOST: "127.0.0.1",
    // No sidecar at all: the probe comes from the sidecar, so it does not ask it back.
    DAPR_HTTP_PORT: 1,
    DAPR_GRPC_PORT: 1,
    DAPR_API_TOKEN: "d".repeat(32),
    APP_API_TOKEN: APP_TOKEN,
    OPS_PORT: 47314,
    OPS_HOST: "127.0.0.1",
    LOG_LEVEL: "fatal" as const,
    BODY_LIMIT: "256kb",
  };
  const svc = await startService({
    config,
    log: createLogger("t", "fatal"),
    readiness: {
      // Never asked by the probe (the sidecar is who probes): failing here proves it.
      sidecar: () => Promise.resolve(false),
      database: async () => {
        if (!databaseUp) throw new Error("connect ECONNREFUSED");
      },
    },
    routes() {},
  });
  const get = async (route: string) => (await fetch(`http://127.0.0.1:${config.APP_PORT}${route}`)).status;
  try {
    assert.equal(await get("/healthz/serving"), 200, "no app token needed, as for /healthz");
    databaseUp = false;
    assert.equal(await get("/healthz/serving"), 503);
    assert.equal(await get("/healthz"), 200, "alive all the same: no restart for a database outage");
    databaseUp = true;
    assert.equal(await get("/healthz/serving"), 200);
  } finally {
    await svc.stop();
  }
});
