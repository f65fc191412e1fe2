import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AppError } from "@lsp/runtime";
import { checkMethodPath, invokeActor, invokeService } from "./index.js";

test("only plain method paths are invoked: no dot segments, no escapes, no empty segments", () => {
  for (const ok of [
    "graphql",
    "/graphql",
    "v1/locations/5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01",
    ".well-known/jwks.json",
  ])
    assert.equal(checkMethodPath(ok), ok.replace(/^\//, ""));
  for (const bad of [
    "",
    "../sales/method/graphql",
    "api/v1/auth/../../x",
    "api/v1/auth/..%2F..%2Fsales",
    "a//b",
    "a/./b",
    "a/b?c=d",
    "a\\b",
    "a b",
    "v1.0/shutdown/..",
  ])
    assert.throws(
      () => checkMethodPath(bad),
      (e: unknown) => e instanceof AppError && e.code === "BAD_USER_INPUT",
      bad,
    );
});

test("every sidecar call carries the app's Dapr API token and goes to /v1.0/invoke/<app>/method/<path>", async () => {
  const seen: { url: string; token: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", token: req.headers["dapr-api-token"] as string | undefined });
    res.end("{}");
  }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as AddressInfo).port;
  const ports = { DAPR_HTTP_PORT: port, DAPR_GRPC_PORT: 1, DAPR_API_TOKEN: "t".repeat(32) };
  await invokeService(ports, "payments", "v1/webhooks/vnpay", { query: "?vnp_Amount=100&vnp_TxnRef=a%2Fb" });
  await assert.rejects(invokeService(ports, "Sales!", "graphql"), AppError);
  await assert.rejects(
    invokeService(ports, "payments", "v1/webhooks/vnpay", { query: "?a=b#frag" }),
    AppError,
  );
  server.close();
  assert.deepEqual(seen, [
    {
      url: "/v1.0/invoke/payments/method/v1/webhooks/vnpay?vnp_Amount=100&vnp_TxnRef=a%2Fb",
      token: "t".repeat(32),
    },
  ]);
});

test("with an allow-list, the client invokes only the listed operations", async () => {
  const ports = {
    DAPR_HTTP_PORT: 1,
    DAPR_GRPC_PORT: 1,
    LSP_ALLOWED_INVOCATIONS: JSON.stringify({ auth: ["GET /v1/locations/*", "POST /graphql"] }),
  };
  for (const [app, method, verb] of [
    ["auth", "v1/keys/rotate", "POST"],
    ["auth", "v1/locations/a/b", "GET"],
    ["auth", "graphql", "GET"],
    ["sales", "graphql", "POST"],
  ] as const)
    await assert.rejects(
      invokeService(ports, app, method, { method: verb }),
      (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
      `${verb} ${app}/${method}`,
    );
  // An allowed call gets past the list (and fails later only because no sidecar listens on port 1).
  await assert.rejects(
    invokeService(ports, "auth", "v1/locations/x", { timeoutMs: 500 }),
    (e: unknown) => e instanceof AppError && e.code === "UNAVAILABLE",
  );
});

test("an actor method is a POST of its arguments to /v1.0/actors/<type>/<id>/method/<m>; failures are UNAVAILABLE", async () => {
  const seen: { method: string; url: string; body: string; token: string | undefined }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        body,
        token: req.headers["dapr-api-token"] as string | undefined,
      });
      if (req.url?.endsWith("/Broken")) {
        res.statusCode = 500;
        res.end('{"errorCode":"ERR_ACTOR_INVOKE_METHOD"}');
      } else if (req.url?.endsWith("/Plain")) res.end("not json");
      else res.end('{"points":[1,2]}');
    });
  }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as AddressInfo).port;
  const ports = { DAPR_HTTP_PORT: port, DAPR_GRPC_PORT: 1, DAPR_API_TOKEN: "t".repeat(32) };
  const id = "0b7e5f9a-5c1e-4a53-9d3c-1f2e3d4c5b6a";
  assert.deepEqual(await invokeActor(ports, "LocationInsights", id, "Forecast", [{ days: 7 }]), {
    points: [1, 2],
  });
  assert.equal(await invokeActor(ports, "LocationInsights", id, "Plain", []), "not json");
  await assert.rejects(
    invokeActor(ports, "LocationInsights", id, "Broken", []),
    (e: unknown) => e instanceof AppError && e.code === "UNAVAILABLE",
  );
  for (const [type, method] of [
    ["Location/../x", "Forecast"],
    ["LocationInsights", "../state"],
    ["LocationInsights", "a/b"],
  ] as const)
    await assert.rejects(
      invokeActor(ports, type, id, method, []),
      (e: unknown) => e instanceof AppError && e.code === "BAD_USER_INPUT",
    );
  server.close();
  assert.equal(seen.length, 3);
  assert.deepEqual(seen[0], {
    method: "POST",
    url: `/v1.0/actors/LocationInsights/${id}/method/Forecast`,
    body: '[{"days":7}]',
    token: "t".repeat(32),
  });
});
