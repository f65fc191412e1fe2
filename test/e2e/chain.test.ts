// The chain at a glance through the edge on the real mesh: order events published to the orders
// topic as sales' sidecar would (on past business days), applied by the dashboard, and the chain
// view of every branch read back: ranked, against the period before, with the chain's totals and
// the branch names stitched from auth. Scope: owners and managers see their branches, staff are
// refused, another restaurant sees only its own; bad ranges are BAD_USER_INPUT.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import {
  DEMO,
  demoPhone,
  edgeClient,
  eventually,
  loginAfterChange,
  type GraphQLResponse,
} from "../support/graphql-client.js";
import { pastOrderCreated, publishAsSales } from "../support/readmodel.js";

const TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01"; // pho-bo-hanoi, demo/demo-data.json
const HK = DEMO.phoBo.hoanKiem;
const CG = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02"; // Cầu Giấy
const DAY = "2026-06-11";
const PREVIOUS_DAY = "2026-06-10";

const CHAIN = /* GraphQL */ `
  query ($day: String, $from: String, $to: String) {
    chain(businessDay: $day, from: $from, to: $to) {
      from
      to
      previousFrom
      previousTo
      branches {
        location {
          id
          name
        }
        rank
        revenue
        orders
        averageTicket
        revenueShare
        previousRevenue
        previousOrders
        revenueChange
        ordersChange
      }
      totals {
        branches
        revenue
        orders
        averageTicket
        previousRevenue
        previousOrders
        revenueChange
        ordersChange
      }
    }
  }
`;

interface Chain {
  chain: {
    from: string;
    to: string;
    previousFrom: string;
    previousTo: string;
    branches: {
      location: { id: string; name: string };
      rank: number;
      revenue: number;
      orders: number;
      averageTicket: number;
      revenueShare: number;
      previousRevenue: number;
      previousOrders: number;
      revenueChange: number | null;
      ordersChange: number | null;
    }[];
    totals: Record<string, number | null>;
  } | null;
}

/** order.created of a past business day at one branch: one phở at the order's total. */
const order = (locationId: string, businessDay: string, totalVnd: number) =>
  pastOrderCreated(TENANT, locationId, businessDay, [
    { itemId: DEMO.phoBo.phoTai, name: "Phở bò tái", quantity: 1, unitPriceVnd: totalVnd },
  ]);

describe("the chain at a glance through the edge", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let owner: ReturnType<typeof edgeClient>;

  before(async () => {
    mesh = await startTestMesh();
    owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    await publishAsSales(mesh, [
      order(HK, DAY, 150_000),
      order(HK, DAY, 100_000),
      order(HK, PREVIOUS_DAY, 125_000),
      order(CG, DAY, 300_000),
    ]);
    // Fence: the chain shows every published order (the dashboard applied them all).
    await eventually(
      "the dashboard applied the published orders",
      async () => {
        const res = await owner<Chain>(CHAIN, { from: PREVIOUS_DAY, to: DAY });
        return res.data?.chain?.totals.orders === 4 ? true : undefined;
      },
      60_000,
    );
  });
  after(async () => {
    await mesh?.stop();
  });

  const answer = (res: GraphQLResponse<Chain>) => {
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.ok(res.data?.chain);
    return res.data.chain;
  };

  test("one business day: every branch ranked, against the day before, with the totals", async () => {
    const chain = answer(await owner<Chain>(CHAIN, { day: DAY }));
    assert.deepEqual(
      [chain.from, chain.to, chain.previousFrom, chain.previousTo],
      [DAY, DAY, PREVIOUS_DAY, PREVIOUS_DAY],
    );
    assert.deepEqual(
      chain.branches.map((b) => [
        b.location.id,
        b.rank,
        b.revenue,
        b.orders,
        b.averageTicket,
        b.previousRevenue,
      ]),
      [
        [CG, 1, 300_000, 1, 300_000, 0],
        [HK, 2, 250_000, 2, 125_000, 125_000],
      ],
    );
    assert.match(chain.branches[0]!.location.name, /Cầu Giấy/); // stitched from auth
    assert.equal(chain.branches[0]!.revenueChange, null); // nothing the day before
    assert.equal(chain.branches[1]!.revenueChange, 1); // 250k against 125k
    assert.equal(chain.branches[1]!.ordersChange, 1);
    assert.ok(Math.abs(chain.branches[0]!.revenueShare - 300 / 550) < 1e-9);
    assert.deepEqual(chain.totals, {
      branches: 2,
      revenue: 550_000,
      orders: 3,
      averageTicket: Math.round(550_000 / 3),
      previousRevenue: 125_000,
      previousOrders: 1,
      revenueChange: (550_000 - 125_000) / 125_000,
      ordersChange: 2,
    });
  });

  test("a range compares with the same number of days before it; managers see the same", async () => {
    const chain = answer(await owner<Chain>(CHAIN, { from: PREVIOUS_DAY, to: DAY }));
    assert.deepEqual([chain.previousFrom, chain.previousTo], ["2026-06-08", "2026-06-09"]);
    assert.deepEqual(
      chain.branches.map((b) => [b.location.id, b.rank, b.revenue, b.orders]),
      [
        [HK, 1, 375_000, 3],
        [CG, 2, 300_000, 1],
      ],
    );
    const manager = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "manager" });
    assert.deepEqual(answer(await manager<Chain>(CHAIN, { from: PREVIOUS_DAY, to: DAY })), chain);
  });

  test("staff are refused; another restaurant sees only its own branch", async () => {
    const staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" });
    const refused = await staff<Chain>(CHAIN, { day: DAY });
    assert.equal(refused.data?.chain ?? null, null);
    assert.deepEqual(
      refused.errors?.map((e) => e.extensions?.code),
      ["FORBIDDEN"],
    );
    const other = answer(await edgeClient(mesh.edgeUrl, DEMO.caPhe.slug)<Chain>(CHAIN, { day: DAY }));
    assert.deepEqual(
      other.branches.map((b) => [b.location.id, b.revenue, b.orders]),
      [[DEMO.caPhe.quan1, 0, 0]],
    );
    assert.equal(other.totals.revenue, 0);
  });

  test("a manager limited to one branch sees that branch only", async () => {
    const phone = demoPhone(DEMO.phoBo.slug, "manager")!;
    const members = await owner<{ members: { user: { id: string; phone: string }; role: string }[] }>(
      `{ members { user { id phone } role } }`,
    );
    const userId = members.data?.members.find((m) => m.user.phone === phone)?.user.id;
    assert.ok(userId, JSON.stringify(members));
    const changed = await owner(
      `mutation ($input: MemberRoleInput!) { setMemberRole(input: $input) { role locationIds } }`,
      { input: { userId, role: "MANAGER", locationIds: [HK] } },
    );
    assert.equal(changed.errors, undefined, JSON.stringify(changed.errors));
    // A new login carries the new scope.
    const tokens = await loginAfterChange(mesh.edgeUrl, DEMO.phoBo.slug, phone);
    const res = await eventually("the chain in the new scope", async () => {
      const r = await fetch(mesh.edgeUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "cache-control": "no-cache",
          "x-tenant": DEMO.phoBo.slug,
          authorization: `Bearer ${tokens.accessToken}`,
        },
        body: JSON.stringify({ query: CHAIN, variables: { day: DAY } }),
      });
      const body = (await r.json()) as GraphQLResponse<Chain>;
      return body.errors?.some((e) => e.extensions?.code === "TOKEN_INVALID") ? undefined : body;
    });
    const chain = answer(res);
    assert.deepEqual(
      chain.branches.map((b) => [b.location.id, b.rank, b.revenue]),
      [[HK, 1, 250_000]],
    );
    assert.equal(chain.totals.revenue, 250_000);
    assert.equal(chain.totals.branches, 1);
  });

  test("bad input is BAD_USER_INPUT naming the field", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["a range over 366 days", { from: "2025-06-10", to: DAY }, "to"],
      ["to before from", { from: DAY, to: PREVIOUS_DAY }, "to"],
      ["a day and a range", { day: DAY, from: PREVIOUS_DAY, to: DAY }, "businessDay"],
      ["nothing", {}, "businessDay"],
      ["not a date", { day: "2026-02-30" }, "businessDay"],
    ];
    for (const [what, variables, field] of cases) {
      const res = await owner<Chain>(CHAIN, variables);
      assert.equal(res.data?.chain ?? null, null, what);
      const [error] = res.errors ?? [];
      assert.equal(error?.extensions?.code, "BAD_USER_INPUT", `${what}: ${JSON.stringify(res.errors)}`);
      assert.equal((error?.extensions as { field?: string } | undefined)?.field, field, what);
    }
    // Nothing changed: the day reads as before.
    assert.equal(answer(await owner<Chain>(CHAIN, { day: DAY })).totals.orders, 3);
  });
});
