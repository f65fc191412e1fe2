// orderUpdates(locationId) over graphql-ws on the real mesh (issue 17, item 1): the floor sees a
// location's orders open, get paid and get voided as sales commits them (outbox → Redis Streams
// → the edge's `edge-orders` subscription); staff see their branch only, another tenant nothing;
// nothing of another branch or tenant arrives (checked behind a fence order, never a sleep).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeAuthHeaders, edgeClient, eventually, type LoginAs } from "../support/graphql-client.js";

const HOAN_KIEM = DEMO.phoBo.hoanKiem;
const CAU_GIAY = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02";

interface Update {
  kind: "CREATED" | "PAID" | "VOIDED";
  orderId: string;
  locationId: string;
  status: string;
  totalVnd: number;
  paymentMethod: string | null;
  voidReason: string | null;
}

type Gql = ReturnType<typeof edgeClient>;

/** One graphql-ws subscription to orderUpdates, collecting what it pushes (or its errors). */
async function watch(mesh: Mesh, tenant: string, as: LoginAs, locationId: string) {
  const headers = await edgeAuthHeaders(mesh.edgeUrl, tenant, as);
  const client: Client = createClient({
    url: mesh.edgeUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: headers,
    retryAttempts: 0,
    lazy: false,
  });
  const updates: Update[] = [];
  const state: { errors?: { extensions?: { code?: string } }[] } = {};
  client.subscribe<{ orderUpdates: Update }>(
    {
      query: `subscription ($l: ID!) { orderUpdates(locationId: $l) {
        kind orderId locationId status totalVnd paymentMethod voidReason } }`,
      variables: { l: locationId },
    },
    {
      next: (v) => {
        if (v.data) updates.push(v.data.orderUpdates);
        else state.errors = v.errors as typeof state.errors;
      },
      error: (e) => void (state.errors = Array.isArray(e) ? (e as typeof state.errors) : [{}]),
      complete: () => undefined,
    },
  );
  return { updates, state, dispose: () => client.dispose() };
}

async function createOrder(gql: Gql, locationId: string, itemId: string = DEMO.phoBo.traDa) {
  const res = await gql<{ createOrder: { id: string } }>(
    `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }`,
    {
      input: {
        locationId,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId, quantity: 1 }],
      },
    },
  );
  assert.ok(res.data?.createOrder, JSON.stringify(res.errors));
  return res.data.createOrder.id;
}

describe("orderUpdates(locationId) over graphql-ws", { timeout: 300_000 }, () => {
  let mesh: Mesh;
  let owner: Gql;
  let manager: Gql;
  let stranger: Gql;
  const open: { dispose: () => Promise<void> | void }[] = [];

  before(async () => {
    mesh = await startTestMesh();
    owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    manager = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "manager" });
    stranger = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
  });
  after(async () => {
    for (const s of open) await s.dispose();
    await mesh?.stop();
  });

  test("open, paid, voided arrive live at the branch's subscribers, and nothing of another branch or tenant", async () => {
    const ownerWatch = await watch(mesh, DEMO.phoBo.slug, {}, HOAN_KIEM);
    const staffWatch = await watch(mesh, DEMO.phoBo.slug, { role: "staff" }, HOAN_KIEM);
    const managerElsewhere = await watch(mesh, DEMO.phoBo.slug, { role: "manager" }, CAU_GIAY);
    open.push(ownerWatch, staffWatch, managerElsewhere);

    // A subscription is live once it has seen an order: until then, send one more (each a new order).
    const warmed = new Set<string>();
    await eventually(
      "the subscriptions are live",
      async () => {
        warmed.add(await createOrder(owner, HOAN_KIEM));
        warmed.add(await createOrder(manager, CAU_GIAY));
        const live = (w: typeof ownerWatch) => w.updates.some((u) => warmed.has(u.orderId));
        return live(ownerWatch) && live(staffWatch) && live(managerElsewhere) ? true : undefined;
      },
      60_000,
    );
    const mark = { owner: ownerWatch.updates.length, staff: staffWatch.updates.length };

    const orderId = await createOrder(owner, HOAN_KIEM, DEMO.phoBo.phoTai);
    const pay = await owner(`mutation ($i: PayOrderInput!) { payOrder(input: $i) { id } }`, {
      i: { orderId, idempotencyKey: randomUUID(), paymentMethod: "card" },
    });
    assert.ok(!pay.errors, JSON.stringify(pay.errors));
    const voided = await owner(`mutation ($i: VoidOrderInput!) { voidOrder(input: $i) { id } }`, {
      i: { orderId, idempotencyKey: randomUUID(), reason: "nhập nhầm" },
    });
    assert.ok(!voided.errors, JSON.stringify(voided.errors));
    // Another branch and another tenant, then a fence at Hoàn Kiếm: once the fence arrives, what
    // came before it at the same topic has been delivered.
    const elsewhere = await createOrder(manager, CAU_GIAY);
    const foreign = await createOrder(stranger, DEMO.caPhe.quan1, DEMO.caPhe.caPheSuaDa);
    const fence = await createOrder(owner, HOAN_KIEM);

    for (const [who, w, from] of [
      ["owner", ownerWatch, mark.owner],
      ["staff", staffWatch, mark.staff],
    ] as const) {
      await eventually(`${who} sees the fence`, async () =>
        w.updates.some((u) => u.orderId === fence) ? true : undefined,
      );
      const after = w.updates.slice(from);
      const ours = after.filter((u) => u.orderId === orderId);
      assert.deepEqual(
        ours.map((u) => [u.kind, u.status, u.totalVnd]),
        [
          ["CREATED", "open", 55_000],
          ["PAID", "paid", 55_000],
          ["VOIDED", "voided", 55_000],
        ],
        who,
      );
      assert.equal(ours[1]?.paymentMethod, "card");
      assert.equal(ours[2]?.voidReason, "nhập nhầm");
      assert.ok(
        after.every((u) => u.locationId === HOAN_KIEM),
        `${who} saw only Hoàn Kiếm: ${JSON.stringify(after)}`,
      );
      assert.ok(!after.some((u) => u.orderId === elsewhere || u.orderId === foreign), who);
    }
    await eventually("the manager at Cầu Giấy sees its order", async () =>
      managerElsewhere.updates.some((u) => u.orderId === elsewhere) ? true : undefined,
    );
    assert.ok(managerElsewhere.updates.every((u) => u.locationId === CAU_GIAY));
  });

  test("scope and bad input: typed errors, no stream", async () => {
    const cases: [string, string, LoginAs, string, string][] = [
      ["staff at another branch", DEMO.phoBo.slug, { role: "staff" }, CAU_GIAY, "FORBIDDEN"],
      ["another tenant's location", DEMO.caPhe.slug, {}, HOAN_KIEM, "NOT_FOUND"],
      ["not a location id", DEMO.phoBo.slug, {}, "hoan-kiem", "BAD_USER_INPUT"],
    ];
    for (const [what, tenant, as, locationId, code] of cases) {
      const w = await watch(mesh, tenant, as, locationId);
      open.push(w);
      await eventually(`${what}: refused`, async () => (w.state.errors ? true : undefined));
      assert.equal(w.state.errors?.[0]?.extensions?.code, code, `${what}: ${JSON.stringify(w.state.errors)}`);
      assert.equal(w.updates.length, 0, what);
    }
  });
});
