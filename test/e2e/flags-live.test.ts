// Feature flags on the real mesh (issue 16): the `flags` Dapr configuration store (PostgreSQL,
// trigger + LISTEN/NOTIFY) changed by the platform's CLI and by owners, seen live by the edge and
// payments through their sidecars' configuration subscriptions, with no restart. Each gate
// switches per tenant while the other tenant is unaffected (checked with a fence: a later change
// of the other tenant's own flag, after which its subscription must have seen exactly that).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { DATABASE } from "../../scripts/mesh/infra.js";
import { merchantSecrets } from "../../scripts/mesh/dev-secrets.js";
import { rolloutBucket } from "@lsp/contracts";
import { vnpaySecureHash, vnpaySignData } from "../../services/payments/src/providers/vnpay.js";
import { startTestMesh } from "../support/mesh.js";
import { sseSubscription } from "../support/sse.js";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient, eventually } from "../support/graphql-client.js";
import { scrapeMetrics, sumOf } from "../support/metrics.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const TENANT = {
  phoBo: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01",
  caPhe: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02",
} as const;

interface Flag {
  key: string;
  enabled: boolean;
  canChange: boolean;
}
const FLAGS_FIELDS = "key enabled canChange";
const enabled = (set: Flag[] | undefined, key: string) => set?.find((f) => f.key === key)?.enabled;

/** A graphql-ws subscription to featureFlagsChanged, collecting every set it pushes. */
async function flagStream(mesh: Mesh, tenant: string) {
  const headers = await edgeAuthHeaders(mesh.edgeUrl, tenant);
  const client: Client = createClient({
    url: mesh.edgeUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: headers,
    retryAttempts: 0,
  });
  const sets: Flag[][] = [];
  const state: { error?: unknown } = {};
  client.subscribe<{ featureFlagsChanged: Flag[] }>(
    { query: `subscription { featureFlagsChanged { ${FLAGS_FIELDS} } }` },
    {
      next: (v) => void (v.data ? sets.push(v.data.featureFlagsChanged) : (state.error = v.errors)),
      error: (e) => void (state.error = e),
      complete: () => undefined,
    },
  );
  const until = (what: string, test: (latest: Flag[]) => boolean) =>
    eventually(what, async () => {
      if (state.error) throw new Error(JSON.stringify(state.error));
      const latest = sets[sets.length - 1];
      return latest && test(latest) ? latest : undefined;
    });
  return { sets, until, dispose: () => client.dispose() };
}

describe("feature flags, live through the Dapr configuration API", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let admin: pg.Client;
  const flags = (...args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/flags.ts", ...args, "--as", "e2e"], {
      cwd: REPO,
      env: { ...process.env, LSP_PORT_BASE: String(mesh.plan.base) },
    });
  const auditRows = async () =>
    Number((await admin.query("SELECT count(*)::int AS n FROM auth.feature_flag_audit")).rows[0].n);
  const storedItems = async () =>
    JSON.stringify(
      (await admin.query("SELECT key, value, version FROM auth.feature_flags ORDER BY key")).rows,
    );

  before(async () => {
    mesh = await startTestMesh();
    admin = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${mesh.plan.postgres}/${DATABASE}`,
    });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await mesh?.stop();
  });

  test("ai.recommendations and ai.forecast switch live for one tenant: empty list and no actor call; the other tenant unaffected (fenced)", async () => {
    const phoBo = await flagStream(mesh, DEMO.phoBo.slug);
    const caPhe = await flagStream(mesh, DEMO.caPhe.slug);
    try {
      await phoBo.until("pho bo's first set", (s) => enabled(s, "ai.recommendations") === true);
      await caPhe.until("ca phe's first set", (s) => enabled(s, "ai.recommendations") === true);
      const caPheBefore = caPhe.sets.length;

      const { stdout } = await flags("set", "ai.recommendations", "off", "--tenant", DEMO.phoBo.slug);
      assert.match(stdout, /ai\.recommendations \(tenant .*\): \(none\) → off/);
      await phoBo.until(
        "pho bo sees ai.recommendations off",
        (s) => enabled(s, "ai.recommendations") === false,
      );

      const calls = async () =>
        sumOf(
          await scrapeMetrics(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/metrics`),
          "edge_ai_call_duration_seconds_count",
          {
            method: "Recommendations",
          },
        );
      const RECS = `query ($id: ID!) { location(id: $id) { recommendations { kind } forecast(days: 7) { method note } } }`;
      const before = await calls();
      const off = await edgeClient(mesh.edgeUrl, DEMO.phoBo.slug)<{
        location: { recommendations: unknown[]; forecast: { method: string } };
      }>(RECS, { id: DEMO.phoBo.hoanKiem });
      assert.deepEqual(off.data?.location.recommendations, [], JSON.stringify(off.errors));
      assert.equal(await calls(), before, "no actor call while the flag is off");
      const on = await edgeClient(mesh.edgeUrl, DEMO.caPhe.slug)<{
        location: { recommendations: unknown[] };
      }>(RECS, { id: DEMO.caPhe.quan1 });
      assert.ok(on.data?.location.recommendations, JSON.stringify(on.errors));
      assert.equal(await calls(), before + 1, "the other tenant's recommendations still ask the actor");

      // ai.forecast is owner-controllable: Phở Bò's owner switches it off for the restaurant.
      const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
      const switched = await owner<{ setFeatureFlag: { current: string; changed: boolean } }>(
        `mutation { setFeatureFlag(key: "ai.forecast", enabled: false) { current changed } }`,
      );
      assert.deepEqual(
        switched.data?.setFeatureFlag,
        { current: "off", changed: true },
        JSON.stringify(switched.errors),
      );
      await phoBo.until("pho bo sees ai.forecast off", (s) => enabled(s, "ai.forecast") === false);
      const forecast = await owner<{ location: { forecast: { method: string } } }>(RECS, {
        id: DEMO.phoBo.hoanKiem,
      });
      assert.equal(forecast.data?.location.forecast.method, "disabled");

      // Fence: Cà Phê's own change. Once its subscription shows it, every earlier change has been
      // through the same store, notification and edge: it must have caused nothing here.
      await flags("set", "dashboard.preview", "on", "--tenant", DEMO.caPhe.slug);
      await caPhe.until("ca phe sees its own change", (s) => enabled(s, "dashboard.preview") === true);
      assert.equal(caPhe.sets.length, caPheBefore + 1, "Phở Bò's switches pushed nothing to Cà Phê");
      assert.equal(enabled(caPhe.sets.at(-1), "ai.recommendations"), true);
      assert.equal(enabled(caPhe.sets.at(-1), "ai.forecast"), true);

      // Back on, live again.
      await flags("set", "ai.recommendations", "inherit", "--tenant", DEMO.phoBo.slug);
      await phoBo.until(
        "pho bo sees ai.recommendations back",
        (s) => enabled(s, "ai.recommendations") === true,
      );
    } finally {
      await phoBo.dispose();
      await caPhe.dispose();
    }
  });

  test("payments.vnpay per tenant: startPayment refuses with FEATURE_DISABLED, the webhook answers merchant not enabled and records nothing; back on, it settles", async () => {
    const caPhe = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    const phoBo = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const order = async (gql: typeof caPhe, locationId: string, itemId: string) => {
      const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
        input: {
          locationId,
          idempotencyKey: randomUUID(),
          paymentMethod: "vnpay",
          lines: [{ itemId, quantity: 1 }],
        },
      });
      assert.ok(created.data?.createOrder, JSON.stringify(created.errors));
      return created.data.createOrder;
    };
    const START = `mutation ($orderId: ID!) { startPayment(orderId: $orderId, provider: vnpay) { reference } }`;
    // A payment started while VNPay is on for Cà Phê; then the platform switches it off.
    const early = await order(caPhe, DEMO.caPhe.quan1, DEMO.caPhe.caPheSuaDa);
    const started = await caPhe<{ startPayment: { reference: string } }>(START, { orderId: early.id });
    assert.ok(started.data?.startPayment, JSON.stringify(started.errors));
    await flags("set", "payments.vnpay", "off", "--tenant", DEMO.caPhe.slug);

    const late = await order(caPhe, DEMO.caPhe.quan1, DEMO.caPhe.caPheSuaDa);
    const refused = await eventually("startPayment refused for Cà Phê", async () => {
      const r = await caPhe(START, { orderId: late.id });
      return r.errors?.[0]?.extensions?.code === "FEATURE_DISABLED" ? r : undefined;
    });
    assert.equal(refused.data, null);
    const intents = await admin.query(
      "SELECT count(*)::int AS n FROM payments.payment_intents WHERE order_id = $1",
      [late.id],
    );
    assert.equal(intents.rows[0].n, 0, "a refused start writes no intent");
    const other = await order(phoBo, DEMO.phoBo.hoanKiem, DEMO.phoBo.phoTai);
    const allowed = await phoBo(START, { orderId: other.id });
    assert.ok(allowed.data?.startPayment, `Phở Bò still pays by VNPay: ${JSON.stringify(allowed.errors)}`);

    const creds = JSON.parse(merchantSecrets()[`payments-vnpay-${TENANT.caPhe}`] ?? "{}") as {
      tmnCode: string;
      hashSecret: string;
    };
    const reference = started.data.startPayment.reference;
    const params: Record<string, string> = {
      vnp_Amount: String(early.totalVnd * 100),
      vnp_OrderInfo: `Thanh toan don ${reference}`,
      vnp_ResponseCode: "00",
      vnp_TmnCode: creds.tmnCode,
      vnp_TransactionNo: String(Date.now()),
      vnp_TransactionStatus: "00",
      vnp_TxnRef: reference,
    };
    const ipn = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks/vnpay?${vnpaySignData(params)}&vnp_SecureHashType=HmacSHA512&vnp_SecureHash=${vnpaySecureHash(creds.hashSecret, params)}`;
    const disabled = (await (await fetch(ipn)).json()) as { RspCode: string; Message: string };
    assert.deepEqual(disabled, { RspCode: "99", Message: "Merchant not enabled" });
    const payments = async () =>
      (await admin.query("SELECT count(*)::int AS n FROM payments.payments WHERE order_id = $1", [early.id]))
        .rows[0].n;
    assert.equal(await payments(), 0, "nothing recorded while VNPay is off");

    await flags("set", "payments.vnpay", "on", "--tenant", DEMO.caPhe.slug);
    const settled = await eventually("VNPay's retry settles once it is back on", async () => {
      const r = (await (await fetch(ipn)).json()) as { RspCode: string };
      return r.RspCode === "00" ? r : undefined;
    });
    assert.equal(settled.RspCode, "00");
    assert.equal(await payments(), 1);
  });

  test("trusted-documents mode per tenant: on for Phở Bò, its ad-hoc documents are refused while Cà Phê's run", async () => {
    const phoBo = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const caPhe = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    const QUERY = `{ featureFlags { key } }`;
    await flags("set", "edge.trusted_documents", "on", "--tenant", DEMO.phoBo.slug);
    await eventually("Phở Bò's ad-hoc document refused", async () => {
      const r = await phoBo(QUERY);
      return r.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_ONLY" ? r : undefined;
    });
    const other = await caPhe<{ featureFlags: Flag[] }>(QUERY);
    assert.ok(other.data?.featureFlags.length, JSON.stringify(other.errors));
    await flags("set", "edge.trusted_documents", "off", "--tenant", DEMO.phoBo.slug);
    await eventually("Phő Bò's documents run again", async () => {
      const r = await phoBo<{ featureFlags: Flag[] }>(QUERY);
      return r.data?.featureFlags.length ? r : undefined;
    });
  });

  test("who may switch: managers and staff are refused and nothing is written; owners only owner-controllable flags; every change audited", async () => {
    const storedBefore = await storedItems();
    const auditBefore = await auditRows();
    const MUTATION = `mutation ($key: String!, $on: Boolean) { setFeatureFlag(key: $key, enabled: $on) { current changed } }`;
    for (const role of ["manager", "staff"] as const) {
      const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role });
      const r = await gql(MUTATION, { key: "dashboard.preview", on: true });
      assert.equal(r.errors?.[0]?.extensions?.code, "FORBIDDEN", `${role}: ${JSON.stringify(r)}`);
      const flagsOf = await gql<{ featureFlags: Flag[] }>(`{ featureFlags { ${FLAGS_FIELDS} } }`);
      assert.ok(
        flagsOf.data?.featureFlags.every((f) => !f.canChange),
        `${role} can change nothing`,
      );
    }
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const platformFlag = await owner(MUTATION, { key: "payments.vnpay", on: false });
    assert.equal(platformFlag.errors?.[0]?.extensions?.code, "FORBIDDEN");
    const unknown = await owner(MUTATION, { key: "no.such.flag", on: true });
    assert.equal(unknown.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    assert.equal(await storedItems(), storedBefore, "no refused change wrote an item");
    assert.equal(await auditRows(), auditBefore, "no refused change wrote an audit row");

    const ok = await owner<{ setFeatureFlag: { current: string; changed: boolean } }>(MUTATION, {
      key: "dashboard.preview",
      on: true,
    });
    assert.deepEqual(ok.data?.setFeatureFlag, { current: "on", changed: true }, JSON.stringify(ok.errors));
    const audit = await owner<{
      featureFlagAudit: { actor: string; actorRole: string; previous: string | null; current: string }[];
    }>(`{ featureFlagAudit(key: "dashboard.preview") { actor actorRole previous current } }`);
    const latest = audit.data?.featureFlagAudit[0];
    assert.match(latest?.actor ?? "", /^user:/);
    assert.deepEqual(
      { role: latest?.actorRole, previous: latest?.previous, current: latest?.current },
      {
        role: "owner",
        previous: null,
        current: "on",
      },
    );
    const listed = await flags("list", "--tenant", DEMO.caPhe.slug);
    assert.match(listed.stdout, /^payments\.vnpay: default on — /m);
    assert.match(listed.stdout, /^ {4}tenant 7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02: on$/m);
    assert.doesNotMatch(listed.stdout, /tenant 7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01/, "only Cà Phê's rules");
    await assert.rejects(
      flags("set", "payments.vnpay", "maybe", "--tenant", DEMO.caPhe.slug),
      /expected on\|off/,
    );
    const { stdout } = await flags("audit", "payments.vnpay");
    assert.match(stdout, /platform:e2e \(platform\) tenant 7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02: off → on/);
  });

  test("a percentage rollout is stable per tenant and matches the hash; the kill switch overrides every rule", async () => {
    await flags("rollout", "ai.forecast", "50");
    // Phở Bò has its own rule (off, earlier test); clear it so that the rollout decides.
    await edgeClient(
      mesh.edgeUrl,
      DEMO.phoBo.slug,
    )(`mutation { setFeatureFlag(key: "ai.forecast", enabled: null) { current } }`);
    for (const [slug, id] of [
      [DEMO.phoBo.slug, TENANT.phoBo],
      [DEMO.caPhe.slug, TENANT.caPhe],
    ] as const) {
      const expected = rolloutBucket("ai.forecast", id) < 50;
      await eventually(`${slug} at 50 %`, async () => {
        const r = await edgeClient(
          mesh.edgeUrl,
          slug,
        )<{ featureFlags: Flag[] }>(`{ featureFlags { ${FLAGS_FIELDS} } }`);
        return enabled(r.data?.featureFlags, "ai.forecast") === expected ? true : undefined;
      });
    }
    await flags("set", "ai.forecast", "on", "--tenant", DEMO.caPhe.slug);
    await flags("kill", "ai.forecast", "on");
    const stream = await flagStream(mesh, DEMO.caPhe.slug);
    try {
      await stream.until(
        "killed for a tenant with an explicit on",
        (s) => enabled(s, "ai.forecast") === false,
      );
      await flags("kill", "ai.forecast", "off");
      await stream.until("back on after the kill switch", (s) => enabled(s, "ai.forecast") === true);
    } finally {
      await stream.dispose();
    }
  });
  test("dashboard.preview switches dashboardUpdates' averageOrderVnd live for one tenant, the other unaffected", async () => {
    type Update = { data?: { dashboardUpdates: { todayOrders: number; averageOrderVnd: number | null } } };
    const phoBo = await flagStream(mesh, DEMO.phoBo.slug);
    const caPhe = await flagStream(mesh, DEMO.caPhe.slug);
    const live = async (tenant: string, locationId: string) => {
      const sub = sseSubscription<Update>(
        mesh.edgeUrl,
        await edgeAuthHeaders(mesh.edgeUrl, tenant),
        `subscription ($id: ID!) { dashboardUpdates(locationId: $id) { todayOrders averageOrderVnd } }`,
        { id: locationId },
      );
      await sub.ready;
      return sub;
    };
    const order = (tenant: string, locationId: string, itemId: string) =>
      edgeClient(mesh.edgeUrl, tenant)<{ createOrder: { id: string } }>(CREATE_ORDER, {
        input: {
          locationId,
          idempotencyKey: randomUUID(),
          paymentMethod: "cash",
          lines: [{ itemId, quantity: 1 }],
        },
      });
    const nextUpdate = (sub: { events: Update[] }, after: number) =>
      eventually("a dashboardUpdates push", async () => sub.events[after]?.data?.dashboardUpdates);
    try {
      await flags("set", "dashboard.preview", "off", "--tenant", DEMO.phoBo.slug);
      await flags("set", "dashboard.preview", "on", "--tenant", DEMO.caPhe.slug);
      await phoBo.until("pho bo: preview off", (f) => enabled(f, "dashboard.preview") === false);
      await caPhe.until("ca phe: preview on", (f) => enabled(f, "dashboard.preview") === true);
      const phoBoLive = await live(DEMO.phoBo.slug, DEMO.phoBo.hoanKiem);
      const caPheLive = await live(DEMO.caPhe.slug, DEMO.caPhe.quan1);

      const placed = await order(DEMO.phoBo.slug, DEMO.phoBo.hoanKiem, DEMO.phoBo.phoTai);
      assert.ok(placed.data?.createOrder, JSON.stringify(placed.errors));
      const placedThere = await order(DEMO.caPhe.slug, DEMO.caPhe.quan1, DEMO.caPhe.caPheSuaDa);
      assert.ok(placedThere.data?.createOrder, JSON.stringify(placedThere.errors));
      const off = await nextUpdate(phoBoLive, 0);
      assert.ok(off.todayOrders > 0);
      assert.equal(off.averageOrderVnd, null, "the preview field stays null while the flag is off");
      const on = await nextUpdate(caPheLive, 0);
      assert.ok(on.todayOrders > 0 && typeof on.averageOrderVnd === "number" && on.averageOrderVnd > 0);

      // Switched on for Phở Bò, live: its next push carries the field, no restart.
      await flags("set", "dashboard.preview", "on", "--tenant", DEMO.phoBo.slug);
      await phoBo.until("pho bo: preview on", (f) => enabled(f, "dashboard.preview") === true);
      const seen = phoBoLive.events.length;
      const again = await order(DEMO.phoBo.slug, DEMO.phoBo.hoanKiem, DEMO.phoBo.phoTai);
      assert.ok(again.data?.createOrder, JSON.stringify(again.errors));
      const nowOn = await eventually("pho bo's push after the order", async () => {
        const u = phoBoLive.events.at(-1)?.data?.dashboardUpdates;
        return phoBoLive.events.length > seen && u && u.todayOrders > off.todayOrders ? u : undefined;
      });
      assert.ok(typeof nowOn.averageOrderVnd === "number" && nowOn.averageOrderVnd > 0);
      phoBoLive.close();
      caPheLive.close();
    } finally {
      await phoBo.dispose();
      await caPhe.dispose();
    }
  });
});
