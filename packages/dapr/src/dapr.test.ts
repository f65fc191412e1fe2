import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AppError } from "@lsp/runtime";
import { checkMethodPath, invokeActor, invokeService, sidecarFetch } from "./index.js";

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

/** A stand-in sidecar on a free port: `answer` serves each request; returns the ports and a stop. */
async function standIn(
  answer: (
    req: import("node:http").IncomingMessage,
    body: string,
    res: import("node:http").ServerResponse,
  ) => void,
) {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => answer(req, body, res));
  }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as AddressInfo).port;
  return {
    ports: { DAPR_HTTP_PORT: port, DAPR_GRPC_PORT: 1, DAPR_API_TOKEN: "t".repeat(32) },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test("sidecarFetch: method, body and headers go out; status, headers and body come back as a Response", async () => {
  const seen: { method: string; url: string; body: string; type: string | undefined }[] = [];
  const sidecar = await standIn((req, body, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", body, type: req.headers["content-type"] });
    if (req.url?.endsWith("/absent")) {
      res.statusCode = 204;
      return res.end();
    }
    res.statusCode = req.method === "POST" ? 201 : 200;
    res.setHeader("etag", '"7"');
    res.setHeader("content-type", "application/json");
    res.end('{"version":7}');
  });
  try {
    const got = await sidecarFetch(sidecar.ports, "state/cache/k");
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("etag"), '"7"');
    assert.deepEqual(await got.json(), { version: 7 });
    const saved = await sidecarFetch(sidecar.ports, "state/cache", {
      body: "[1]",
      headers: { "content-type": "application/cloudevents+json" },
    });
    assert.equal(saved.status, 201);
    const absent = await sidecarFetch(sidecar.ports, "state/cache/absent");
    assert.equal(absent.status, 204);
    assert.equal(absent.body, null);
    assert.deepEqual(seen, [
      { method: "GET", url: "/v1.0/state/cache/k", body: "", type: "application/json" },
      { method: "POST", url: "/v1.0/state/cache", body: "[1]", type: "application/cloudevents+json" },
      { method: "GET", url: "/v1.0/state/cache/absent", body: "", type: "application/json" },
    ]);
  } finally {
    await sidecar.stop();
  }
});

test("sidecarFetch with stream: the body arrives while the sidecar is still sending it", async () => {
  let finish: () => void = () => undefined;
  const sidecar = await standIn((_req, _body, res) => {
    res.write("first,row\n");
    finish = () => res.end("last,row\n");
  });
  try {
    const answer = await sidecarFetch(sidecar.ports, "invoke/sales/method/v1/exports/orders", {
      stream: true,
    });
    const reader = answer.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first,row\n");
    finish();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    assert.equal(rest, "last,row\n");
  } finally {
    await sidecar.stop();
  }
});

test("sidecarFetch: a sidecar that does not answer in time, or not at all, is UNAVAILABLE", async () => {
  const sidecar = await standIn(() => undefined); // never answers
  try {
    await assert.rejects(
      sidecarFetch(sidecar.ports, "state/cache/k", { timeoutMs: 200 }),
      (e: unknown) => e instanceof AppError && e.code === "UNAVAILABLE",
    );
  } finally {
    await sidecar.stop();
  }
  await assert.rejects(
    sidecarFetch({ DAPR_HTTP_PORT: 1, DAPR_GRPC_PORT: 1 }, "healthz/outbound", { timeoutMs: 500 }),
    (e: unknown) => e instanceof AppError && e.code === "UNAVAILABLE",
  );
});
