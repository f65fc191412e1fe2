// Branch scope of notification preferences and payments on the real mesh, through the edge only:
// Phở Bò's staff member works at Hoàn Kiếm; Cầu Giấy is another branch of the same restaurant.
// Reads of PostgreSQL check that a refused change wrote nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { serviceDatabaseUrl } from "../../scripts/mesh/infra.js";
import { startTestMesh } from "../support/mesh.js";
import {
  CREATE_ORDER,
  DEMO,
  edgeClient,
  eventually,
  type GraphQLResponse,
} from "../support/graphql-client.js";
import { postMomoIpn } from "../support/momo.js";

const CAU_GIAY = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02";
const PHO_BO_TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01";

const UPDATE_PREFERENCES = /* GraphQL */ `
  mutation ($input: NotificationPreferencesInput!) {
    updateNotificationPreferences(input: $input) {
      locationIds
      mutedKinds
    }
  }
`;
const FEED = /* GraphQL */ `
  {
    notifications(first: 100) {
      kind
      locationId
      body
    }
  }
`;

const codeOf = (res: GraphQLResponse<unknown>) => res.errors?.[0]?.extensions?.code;

describe("notification preferences and payments within the caller's branches", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let owner: ReturnType<typeof edgeClient>;
  let staff: ReturnType<typeof edgeClient>;
  let notificationsDb: pg.Pool;

  before(async () => {
    mesh = await startTestMesh();
    owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" });
    notificationsDb = new pg.Pool({
      connectionString: serviceDatabaseUrl(mesh.plan.postgres, "notifications"),
      max: 1,
    });
  });
  after(async () => {
    await notificationsDb?.end();
    await mesh?.stop();
  });

  /** Phở Bò's preference rows (its tenant's transaction: row-level security). */
  async function preferenceRows(): Promise<{ user_id: string; location_ids: string[] | null }[]> {
    const client = await notificationsDb.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [PHO_BO_TENANT]);
      const { rows } = await client.query<{ user_id: string; location_ids: string[] | null }>(
        "SELECT user_id, location_ids FROM preferences ORDER BY user_id",
      );
      await client.query("COMMIT");
      return rows;
    } finally {
      client.release();
    }
  }

  /** An order of `locationId` paid by a genuine MoMo notice through the edge. */
  async function paidOrder(locationId: string): Promise<string> {
    const created = await owner<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
      input: {
        locationId,
        idempotencyKey: randomUUID(),
        paymentMethod: "momo",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
      },
    });
    const order = created.data?.createOrder;
    assert.ok(order, JSON.stringify(created.errors));
    const started = await owner<{ startPayment: { reference: string } }>(
      `mutation ($orderId: ID!) { startPayment(orderId: $orderId, provider: momo) { reference } }`,
      { orderId: order.id },
    );
    const reference = started.data?.startPayment.reference;
    assert.ok(reference, JSON.stringify(started.errors));
    const res = await postMomoIpn(mesh, { order, reference });
    assert.equal(res.status, 204, await res.text());
    return order.id;
  }

  test("staff cannot widen their preferences to another branch: FORBIDDEN, nothing written; 'every branch' is theirs", async () => {
    const before = await preferenceRows();
    for (const locationIds of [[CAU_GIAY], [DEMO.phoBo.hoanKiem, CAU_GIAY]]) {
      const res = await staff(UPDATE_PREFERENCES, { input: { locationIds, mutedKinds: [] } });
      assert.equal(codeOf(res), "FORBIDDEN", JSON.stringify(res));
      assert.equal(res.data?.updateNotificationPreferences ?? null, null);
    }
    assert.deepEqual(await preferenceRows(), before, "nothing written");

    const all = await staff<{ updateNotificationPreferences: { locationIds: string[] | null } }>(
      UPDATE_PREFERENCES,
      { input: { locationIds: null, mutedKinds: [] } },
    );
    assert.deepEqual(
      all.data?.updateNotificationPreferences.locationIds,
      [DEMO.phoBo.hoanKiem],
      JSON.stringify(all.errors),
    );
    const saved = await preferenceRows();
    assert.equal(saved.length, before.length + 1);
    assert.ok(
      saved.every(
        (r) => r.location_ids === null || !r.location_ids.includes(CAU_GIAY) || r.user_id === PHO_BO_TENANT,
      ),
    );
  });

  test("staff of Hoàn Kiếm: payments(orderId) of a Cầu Giấy order is FORBIDDEN; their own branch's order reads", async () => {
    const cauGiay = await paidOrder(CAU_GIAY);
    const hoanKiem = await paidOrder(DEMO.phoBo.hoanKiem);
    const query = `query ($orderId: ID!) { payments(orderId: $orderId) { status amountVnd } }`;
    const refused = await staff(query, { orderId: cauGiay });
    assert.equal(codeOf(refused), "FORBIDDEN", JSON.stringify(refused));
    assert.equal(refused.data ?? null, null);
    const mine = await eventually("the Hoàn Kiếm payment", async () => {
      const res = await staff<{ payments: { status: string }[] }>(query, { orderId: hoanKiem });
      return res.data?.payments.length ? res.data.payments : undefined;
    });
    assert.deepEqual(
      mine.map((p) => p.status),
      ["succeeded"],
    );
    // The owner reads both.
    const ownerView = await owner<{ payments: { status: string }[] }>(query, { orderId: cauGiay });
    assert.deepEqual(
      ownerView.data?.payments.map((p) => p.status),
      ["succeeded"],
      JSON.stringify(ownerView.errors),
    );
  });

  test("owners are still notified of every branch's payments after staff saved preferences; staff only of theirs", async () => {
    // Staff saved preferences in the first test (this mesh): before issue 12 that silenced the owners.
    assert.ok((await preferenceRows()).some((r) => r.user_id !== PHO_BO_TENANT));
    const cauGiay = await paidOrder(CAU_GIAY);
    const ownerFeed = await eventually("the owners' notice of the Cầu Giấy payment", async () => {
      const res = await owner<{ notifications: { kind: string; locationId: string | null }[] }>(FEED);
      return res.data?.notifications.some((n) => n.kind === "payment" && n.locationId === CAU_GIAY)
        ? res.data.notifications
        : undefined;
    });
    assert.ok(ownerFeed.length > 0, cauGiay);

    // Fence: a Hoàn Kiếm payment after it; once staff have that notice, the Cầu Giấy one (earlier,
    // same topic and consumer) would be there too if it were meant for them.
    await paidOrder(DEMO.phoBo.hoanKiem);
    const staffFeed = await eventually("the staff member's notice of the Hoàn Kiếm payment", async () => {
      const res = await staff<{ notifications: { kind: string; locationId: string | null }[] }>(FEED);
      return res.data?.notifications.some((n) => n.kind === "payment" && n.locationId === DEMO.phoBo.hoanKiem)
        ? res.data.notifications
        : undefined;
    });
    assert.equal(
      staffFeed.filter((n) => n.locationId === CAU_GIAY).length,
      0,
      "no notice of another branch reaches the staff member",
    );
  });
});
