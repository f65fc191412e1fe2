// Zero trust inside the mesh (issue 12): each attack of the "Why", tried against the real
// mesh (mTLS with Sentry, access control, tokens, scopes), is refused with a typed error or the
// provider's exact code, while the genuine flow next to it still passes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import jwt from "jsonwebtoken";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import type { AppName } from "../../scripts/mesh/ports.js";
import { DEMO, LOCATION_TODAY, edgeAuthHeaders, edgeClient, eventually } from "../support/graphql-client.js";
import { asApp, asSidecarOf, startTestMesh } from "../support/mesh.js";
import { openMomoOrder, postMomoIpn } from "../support/momo.js";

const PHO_BO_TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01";

describe(
  "zero trust: the edge is the only door and every call proves who makes it",
  { timeout: 600_000 },
  () => {
    let mesh: Mesh;
    let gql: ReturnType<typeof edgeClient>;
    let edge: string;

    /** Dapr's HTTP API of `app`'s sidecar, called as `app` would call it (its own token). */
    const sidecar = (app: AppName, api: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${mesh.plan.apps[app].daprHttp}/v1.0/${api}`, {
        ...init,
        headers: { "content-type": "application/json", ...asApp(mesh, app), ...(init.headers as object) },
        signal: AbortSignal.timeout(10_000),
      });

    before(async () => {
      mesh = await startTestMesh();
      gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
      edge = new URL(mesh.edgeUrl).origin;
    });
    after(async () => {
      await mesh?.stop();
    });

    test("the edge forwards exactly what it serves: traversal out of /api/v1/auth or a webhook is a 404", async () => {
      // Sent byte for byte (fetch would resolve `..` itself before sending).
      const rawPost = (rawPath: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request(
            {
              host: "127.0.0.1",
              port: mesh.plan.apps.edge.app,
              path: rawPath,
              method: "POST",
              headers: {
                "content-type": "application/json",
                "x-tenant": DEMO.phoBo.slug,
              },
            },
            (res) => {
              let body = "";
              res.on("data", (c: Buffer) => (body += c.toString()));
              res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on("error", reject);
          req.end(JSON.stringify({ query: "{ __typename }", phone: "0912000001" }));
        });
      for (const p of [
        "/api/v1/auth/..%2F..%2F..%2F..%2F..%2Fsales%2Fmethod%2Fgraphql",
        "/api/v1/auth/..%2f..%2f..%2f..%2f..%2fpublish%2Fpubsub%2Fpayments",
        "/api/v1/auth/otp%2Frequest",
        "/api/v1/auth/keys/rotate",
        "/api/v1/auth/../../v1.0/shutdown",
        "/api/v1/webhooks/..%2F..%2F..%2Fshutdown",
        "/api/v1/webhooks/momo%2F..%2F..%2Fgraphql",
      ]) {
        const res = await rawPost(p);
        assert.equal(res.status, 404, `${p}: ${res.body}`);
        assert.equal((JSON.parse(res.body) as { error?: { code?: string } }).error?.code, "NOT_FOUND", p);
      }
      // The genuine route still works.
      const ok = await fetch(`${edge}/api/v1/auth/otp/request`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tenant": DEMO.phoBo.slug },
        body: JSON.stringify({ phone: "0912000099" }),
      });
      assert.equal(ok.status, 202);
    });

    test("the public port serves no metrics, readiness or Dapr deliveries", async () => {
      const forgedUpdate = {
        id: randomUUID(),
        specversion: "1.0",
        source: "attacker",
        type: "dashboard.updated",
        datacontenttype: "application/json",
        data: {
          tenantId: PHO_BO_TENANT,
          locationId: DEMO.phoBo.hoanKiem,
          businessDay: "2026-11-29",
          revenueVnd: 1,
          orders: 1,
        },
      };
      for (const route of ["/events/dashboard", "/events/notifications", "/events/members"]) {
        const res = await fetch(`${edge}${route}`, {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json" },
          body: JSON.stringify(forgedUpdate),
        });
        assert.equal(res.status, 401, route);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, "UNAUTHENTICATED");
      }
      for (const route of ["/metrics", "/readyz", "/dapr/subscribe"]) {
        const res = await fetch(`${edge}${route}`);
        assert.ok(res.status === 401 || res.status === 404, `${route}: ${res.status}`);
      }
      // The platform reads them on the ops listener.
      assert.equal((await fetch(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/readyz`)).status, 200);
    });

    test("an app answers only its own sidecar: no app token, no answer", async () => {
      for (const app of ["auth", "sales", "dashboard", "payments", "notifications", "ai"] as const) {
        const res = await fetch(`http://127.0.0.1:${mesh.plan.apps[app].app}/graphql`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-lsp-tenant-id": PHO_BO_TENANT,
            "x-lsp-role": "owner",
          },
          body: JSON.stringify({ query: "{ __typename }" }),
        });
        assert.equal(res.status, 401, app);
      }
      // Its sidecar, with the token, gets through (the genuine path the mesh uses).
      const ok = await fetch(`http://127.0.0.1:${mesh.plan.apps.sales.app}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...asSidecarOf(mesh, "sales") },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      assert.equal(ok.status, 200);
    });

    test("a sidecar refuses its own API to a caller without the app's Dapr API token", async () => {
      const res = await fetch(
        `http://127.0.0.1:${mesh.plan.apps.edge.daprHttp}/v1.0/publish/pubsub/payments`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        },
      );
      assert.equal(res.status, 401);
    });

    test("identity cannot be forged inside: hand-set identity headers through a sidecar get nobody", async () => {
      // The edge may call auth's GraphQL, but a caller is only who a verified token says.
      const asEdge = await sidecar("edge", "invoke/auth/method/graphql", {
        method: "POST",
        headers: { "x-lsp-tenant-id": PHO_BO_TENANT, "x-lsp-user-id": randomUUID(), "x-lsp-role": "owner" },
        body: JSON.stringify({ query: "{ members { role } }" }),
      });
      const answer = (await asEdge.json()) as { errors?: { extensions?: { code?: string } }[] };
      assert.equal(answer.errors?.[0]?.extensions?.code, "UNAUTHENTICATED", JSON.stringify(answer));
      // ai may not invoke sales at all (access control, by its mTLS identity).
      const asAi = await sidecar("ai", "invoke/sales/method/graphql", {
        method: "POST",
        headers: { "x-lsp-tenant-id": PHO_BO_TENANT, "x-lsp-role": "system" },
        body: JSON.stringify({ query: `{ location(id: "${DEMO.phoBo.hoanKiem}") { id } }` }),
      });
      assert.equal(asAi.status, 403, await asAi.text());
      // Nor may the edge call auth's key rotation, or the dev sink that no longer exists on auth.
      for (const method of ["v1/keys/rotate", "dev/sms-sink"]) {
        const res = await sidecar("edge", `invoke/auth/method/${method}`, { method: "POST", body: "{}" });
        assert.equal(res.status, 403, method);
      }
      // A system call is honoured only from the app ids the callee names: payments may ask sales.
      const asPayments = await sidecar("payments", "invoke/sales/method/graphql", {
        method: "POST",
        headers: { "x-lsp-tenant-id": PHO_BO_TENANT },
        body: JSON.stringify({ query: `{ order(id: "${randomUUID()}") { id } }` }),
      });
      const paymentsAnswer = (await asPayments.json()) as { data?: { order: unknown }; errors?: unknown[] };
      assert.equal(paymentsAnswer.errors, undefined, JSON.stringify(paymentsAnswer));
      assert.equal(paymentsAnswer.data?.order, null);
    });

    test("secrets only where they are used", async () => {
      // The edge reads its export-link key and nothing else; ai, notifications and payments read no
      // key of the shared store.
      for (const key of ["auth-signing-keys", "auth-otp-pepper"])
        assert.notEqual(
          (await sidecar("edge", `secrets/secretstore/${key}`)).status,
          200,
          `edge read ${key}`,
        );
      assert.equal((await sidecar("edge", "secrets/secretstore/edge-export-signing-key")).status, 200);
      const edgeBulk = await sidecar("edge", "secrets/secretstore/bulk");
      assert.ok(
        edgeBulk.status === 403 ||
          (edgeBulk.ok && Object.keys(await edgeBulk.json()).every((k) => k === "edge-export-signing-key")),
        "edge bulk",
      );
      for (const app of ["ai", "notifications", "payments"] as const) {
        for (const key of ["auth-signing-keys", "auth-otp-pepper"]) {
          const res = await sidecar(app, `secrets/secretstore/${key}`);
          assert.equal(res.status, 403, `${app} read ${key}`);
        }
        const bulk = await sidecar(app, "secrets/secretstore/bulk");
        assert.ok(
          bulk.status === 403 || (bulk.ok && Object.keys(await bulk.json()).length === 0),
          `${app} bulk`,
        );
      }
      // Merchant credentials are payments' alone.
      const merchantKey = `payments-momo-${PHO_BO_TENANT}`;
      for (const app of ["ai", "edge", "auth", "notifications"] as const) {
        const res = await sidecar(app, `secrets/merchant-credentials/${merchantKey}`);
        assert.notEqual(res.status, 200, `${app} read merchant credentials`);
      }
      assert.equal((await sidecar("payments", `secrets/merchant-credentials/${merchantKey}`)).status, 200);
      assert.equal((await sidecar("auth", "secrets/secretstore/auth-otp-pepper")).status, 200);
    });

    test("topics: an app publishes and subscribes only what access.yaml gives it", async () => {
      const forged = JSON.stringify({
        specversion: "1.0",
        id: randomUUID(),
        source: "attacker",
        type: "payment.succeeded",
        datacontenttype: "application/json",
        data: { tenantId: PHO_BO_TENANT, orderId: randomUUID(), amountVnd: 1 },
      });
      for (const app of ["edge", "ai", "notifications", "sales", "dashboard"] as const) {
        const res = await sidecar(app, "publish/pubsub/payments", {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json" },
          body: forged,
        });
        assert.equal(res.status, 403, `${app} published to payments: ${res.status}`);
      }
      const unknownTopic = await sidecar("payments", "publish/pubsub/anything-else", {
        method: "POST",
        body: "{}",
      });
      assert.equal(unknownTopic.status, 403);
    });

    test("tokens: without exp, or signed by anyone but auth, they never verify", async () => {
      const keys = JSON.parse(readFileSync(path.join(mesh.runDir, "auth-dev-keys.json"), "utf8")) as {
        keys: { kid: string; privateKeyPem: string }[];
      };
      const key = keys.keys[0]!;
      const claims = { tid: PHO_BO_TENANT, role: "owner" };
      const noExp = jwt.sign(claims, key.privateKeyPem, {
        algorithm: "ES256",
        keyid: key.kid,
        issuer: "lsp-auth",
        audience: "lsp",
        subject: randomUUID(),
      });
      const res = await fetch(mesh.edgeUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-tenant": DEMO.phoBo.slug,
          authorization: `Bearer ${noExp}`,
        },
        body: JSON.stringify({ query: LOCATION_TODAY, variables: { id: DEMO.phoBo.hoanKiem } }),
      });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      assert.equal(body.errors?.[0]?.extensions?.code, "TOKEN_INVALID", JSON.stringify(body));
      // A genuine token works.
      const genuine = await gql(LOCATION_TODAY, { id: DEMO.phoBo.hoanKiem });
      assert.equal(genuine.errors, undefined, JSON.stringify(genuine.errors));
    });

    test("limits: other content types are never executed (415, 413 past the body limit); merge fields are not public", async () => {
      const big = "{ __typename }".padEnd(3 * 1024 * 1024, " ");
      // Another content type is never executed: refused once read, and read no further than the
      // body limit (a large one is 413 before its end arrives).
      for (const type of ["application/graphql", "application/x-www-form-urlencoded", "text/plain"]) {
        for (const [body, status] of [
          ["{ __typename }", 415],
          [big, 413],
        ] as const) {
          const res = await fetch(mesh.edgeUrl, { method: "POST", headers: { "content-type": type }, body });
          assert.equal(res.status, status, `${type}, ${body.length} bytes`);
        }
      }
      const oversized = await fetch(mesh.edgeUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: big }),
      });
      assert.equal(oversized.status, 413);
      for (const field of [
        "_sdl",
        `_salesLocations(ids: ["${DEMO.phoBo.hoanKiem}"]) { id }`,
        `_dashboardLocations(ids: ["${DEMO.phoBo.hoanKiem}"]) { id }`,
        "_notificationsLive",
      ]) {
        const res = await gql(`{ ${field} }`);
        assert.equal(
          res.errors?.[0]?.extensions?.code,
          "GRAPHQL_VALIDATION_FAILED",
          `${field}: ${JSON.stringify(res)}`,
        );
      }
      // The stitched fields those merges serve still resolve.
      const stitched = await gql<{ location: { todayOrders: number; menu: unknown[] } }>(
        `{ location(id: "${DEMO.phoBo.hoanKiem}") { todayOrders menu { name } } }`,
      );
      assert.equal(stitched.errors, undefined, JSON.stringify(stitched.errors));
      assert.ok(stitched.data?.location.menu.length);
    });

    test("graphql-ws: anonymous sockets are closed 4403 at connection_init; a logged-in socket works", async () => {
      const wsUrl = mesh.edgeUrl.replace(/^http/, "ws");
      const closeOf = (connectionParams: Record<string, unknown>) =>
        new Promise<number>((resolve) => {
          const client = createClient({
            url: wsUrl,
            webSocketImpl: WebSocket,
            retryAttempts: 0,
            lazy: false,
            // The close is the expected answer, read in `closed`: not an error to print.
            onNonLazyError: () => undefined,
            connectionParams,
            on: { closed: (e) => resolve((e as { code: number }).code) },
          });
          client.on("connected", () => resolve(0));
        });
      assert.equal(await closeOf({ tenant: DEMO.phoBo.slug }), 4403);
      assert.equal(await closeOf({ tenant: DEMO.phoBo.slug, authorization: "Bearer junk" }), 4403);
      const headers = await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { tenant: DEMO.phoBo.slug, authorization: headers.authorization },
      });
      const result = await new Promise<unknown>((resolve, reject) => {
        client.subscribe(
          { query: "{ __typename }" },
          { next: resolve, error: reject, complete: () => undefined },
        );
      });
      assert.deepEqual(result, { data: { __typename: "Query" } });
      await client.dispose();
      // A message larger than the limit closes the socket (1009), it is never parsed.
      const raw = new WebSocket(wsUrl, "graphql-transport-ws");
      await new Promise((r) => raw.once("open", r));
      const closed = new Promise<number>((r) => raw.once("close", (code) => r(code)));
      raw.send(JSON.stringify({ type: "connection_init", payload: { pad: "x".repeat(200 * 1024) } }));
      assert.equal(await closed, 1009);
    });

    test("junk webhooks never keep a genuine one out: 20 forged MoMo notices, then the real one settles", async () => {
      const junk = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const payment = await openMomoOrder(gql);
          return (await postMomoIpn(mesh, payment, { badSignature: true })).status;
        }),
      );
      assert.ok(
        junk.every((s) => s >= 400 && s < 500),
        `junk answered ${junk.join(",")}`,
      );
      const payment = await openMomoOrder(gql);
      const genuine = await postMomoIpn(mesh, payment);
      assert.equal(genuine.status, 204, await genuine.text());
      await eventually("the genuine order paid", async () => {
        const res = await gql<{ order: { status: string } }>(
          `query ($id: ID!) { order(id: $id) { status } }`,
          {
            id: payment.order.id,
          },
        );
        return res.data?.order.status === "paid" ? true : undefined;
      });
    });
  },
);
