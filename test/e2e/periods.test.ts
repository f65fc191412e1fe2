// Periods through the edge on the real mesh: order events of past business days (this year and
// the same dates last year) published to the orders topic as sales' sidecar would, applied by the
// dashboard, and a location's period read back: the daily series, ISO weeks and calendar months
// (cut by the range), the previous period, the same period last year and menu engineering over
// the range. Scope: staff read their branch only, another restaurant reads nothing; a range over
// 366 days is BAD_USER_INPUT.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeClient, eventually, type GraphQLResponse } from "../support/graphql-client.js";
import { pastOrderCreated, publishAsSales } from "../support/readmodel.js";

const TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01"; // pho-bo-hanoi, demo/demo-data.json
const HK = DEMO.phoBo.hoanKiem;
const CG = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02";
const PHO = { itemId: DEMO.phoBo.phoTai, name: "Phở bò tái", unitPriceVnd: 55_000, unitCostVnd: 20_000 };
const TRA = { itemId: DEMO.phoBo.traDa, name: "Trà đá", unitPriceVnd: 5_000, unitCostVnd: 1_000 };
// Friday 2026-05-29 to Tuesday 2026-06-02: two ISO weeks (Mon 05-25, Mon 06-01), two months.
const FROM = "2026-05-29";
const TO = "2026-06-02";

/** Phở count per day of the range (a day with none: 06-01, the Monday). */
const PHO_PER_DAY: Record<string, number> = {
  "2026-05-29": 2,
  "2026-05-30": 3,
  "2026-05-31": 1,
  "2026-06-02": 4,
  // The previous period (05-24..05-28) and last year.
  "2026-05-25": 1,
  "2025-05-30": 5,
};

const order = (locationId: string, businessDay: string, phos: number) =>
  pastOrderCreated(TENANT, locationId, businessDay, [
    { ...PHO, quantity: phos, category: "Phở" },
    { ...TRA, quantity: 1, category: "Đồ uống" },
  ]);
const revenueOf = (day: string) => (PHO_PER_DAY[day] ? PHO_PER_DAY[day] * 55_000 + 5_000 : 0);

const FIGURES = "from to days revenue orders averageTicket";
const PERIOD = /* GraphQL */ `
  query ($id: ID!, $from: String!, $to: String!) {
    location(id: $id) {
      id
      period(from: $from, to: $to) {
        from
        to
        totals { ${FIGURES} grossSales }
        daily: series { ${FIGURES} complete }
        weeks: series(grain: week) { ${FIGURES} complete }
        months: series(grain: month) { ${FIGURES} complete }
        previousPeriod { totals { ${FIGURES} } revenueChange ordersChange averageTicketChange }
        samePeriodLastYear { totals { ${FIGURES} } revenueChange ordersChange }
        menuEngineering { itemId name quantity revenue contributionMargin quadrant }
      }
    }
  }
`;

type Figures = {
  from: string;
  to: string;
  days: number;
  revenue: number;
  orders: number;
  averageTicket: number;
};
interface Period {
  location: {
    id: string;
    period: {
      from: string;
      to: string;
      totals: Figures & { grossSales: number };
      daily: (Figures & { complete: boolean })[];
      weeks: (Figures & { complete: boolean })[];
      months: (Figures & { complete: boolean })[];
      previousPeriod: { totals: Figures; revenueChange: number | null; ordersChange: number | null };
      samePeriodLastYear: { totals: Figures; revenueChange: number | null; ordersChange: number | null };
      menuEngineering: {
        itemId: string;
        quantity: number;
        revenue: number;
        contributionMargin: number;
        quadrant: string;
      }[];
    } | null;
  } | null;
}

describe("periods through the edge", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let owner: ReturnType<typeof edgeClient>;

  before(async () => {
    mesh = await startTestMesh();
    owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    await publishAsSales(mesh, [
      ...Object.entries(PHO_PER_DAY).map(([day, n]) => order(HK, day, n)),
      order(CG, "2026-05-30", 9), // another branch: never in Hoàn Kiếm's figures
    ]);
    await eventually(
      "the dashboard applied the published orders",
      async () => {
        // 2025-06-03..2026-06-02 holds this year's 5 orders, the period before it last year's.
        const res = await owner<Period>(PERIOD, { id: HK, from: "2025-06-03", to: "2026-06-02" });
        const p = res.data?.location?.period;
        return p && p.totals.orders === 5 && p.previousPeriod.totals.orders === 1 ? true : undefined;
      },
      60_000,
    );
    // Cầu Giấy's order too (a fence for the scope checks below).
    await eventually("Cầu Giấy applied", async () => {
      const res = await owner<Period>(PERIOD, { id: CG, from: FROM, to: TO });
      return res.data?.location?.period?.totals.orders === 1 ? true : undefined;
    });
  });
  after(async () => {
    await mesh?.stop();
  });

  const periodOf = (res: GraphQLResponse<Period>) => {
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.ok(res.data?.location?.period);
    return res.data.location.period;
  };

  test("daily series, ISO weeks, calendar months, previous period, last year, menu engineering", async () => {
    const p = periodOf(await owner<Period>(PERIOD, { id: HK, from: FROM, to: TO }));
    const days = ["2026-05-29", "2026-05-30", "2026-05-31", "2026-06-01", "2026-06-02"];
    assert.deepEqual(
      p.daily.map((d) => [d.from, d.revenue, d.orders]),
      days.map((d) => [d, revenueOf(d), PHO_PER_DAY[d] ? 1 : 0]),
    );
    const total = days.reduce((s, d) => s + revenueOf(d), 0);
    assert.deepEqual([p.totals.revenue, p.totals.orders, p.totals.days], [total, 4, 5]);
    assert.equal(p.totals.averageTicket, Math.round(total / 4));
    // Weeks start on Monday: Fri–Sun of the week of 05-25, then Mon–Tue of the week of 06-01.
    assert.deepEqual(
      p.weeks.map((w) => [w.from, w.to, w.days, w.revenue, w.complete]),
      [
        [
          "2026-05-29",
          "2026-05-31",
          3,
          revenueOf("2026-05-29") + revenueOf("2026-05-30") + revenueOf("2026-05-31"),
          false,
        ],
        ["2026-06-01", "2026-06-02", 2, revenueOf("2026-06-02"), false],
      ],
    );
    assert.deepEqual(
      p.months.map((m) => [m.from, m.to, m.orders]),
      [
        ["2026-05-29", "2026-05-31", 3],
        ["2026-06-01", "2026-06-02", 1],
      ],
    );
    // The previous 5 days (05-24..05-28) held one order; last year's 2025-05-29..06-02 one.
    assert.deepEqual(
      [p.previousPeriod.totals.from, p.previousPeriod.totals.to, p.previousPeriod.totals.revenue],
      ["2026-05-24", "2026-05-28", revenueOf("2026-05-25")],
    );
    assert.equal(p.previousPeriod.revenueChange, (total - revenueOf("2026-05-25")) / revenueOf("2026-05-25"));
    assert.equal(p.previousPeriod.ordersChange, 3);
    assert.deepEqual(
      [p.samePeriodLastYear.totals.from, p.samePeriodLastYear.totals.to, p.samePeriodLastYear.totals.revenue],
      ["2025-05-29", "2025-06-02", revenueOf("2025-05-30")],
    );
    // Menu engineering over the range: 10 phở and 4 trà đá (the same rule as the day report's).
    const byItem = new Map(p.menuEngineering.map((i) => [i.itemId, i]));
    assert.equal(byItem.get(PHO.itemId)?.quantity, 10);
    assert.equal(byItem.get(PHO.itemId)?.revenue, 550_000);
    assert.equal(byItem.get(PHO.itemId)?.contributionMargin, 35_000);
    assert.equal(byItem.get(PHO.itemId)?.quadrant, "star");
    assert.equal(byItem.get(TRA.itemId)?.quantity, 4);
  });

  test("a whole year answers with 366 days; 367 is BAD_USER_INPUT and reads nothing", async () => {
    const year = periodOf(await owner<Period>(PERIOD, { id: HK, from: "2025-06-03", to: "2026-06-03" }));
    assert.equal(year.daily.length, 366);
    assert.equal(year.months.length, 13);
    const over = await owner<Period>(PERIOD, { id: HK, from: "2025-06-02", to: "2026-06-03" });
    assert.equal(over.data?.location?.period ?? null, null);
    const [error] = over.errors ?? [];
    assert.equal(error?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(over.errors));
    assert.match(error?.message ?? "", /366/);
    const backwards = await owner<Period>(PERIOD, { id: HK, from: TO, to: FROM });
    assert.equal(backwards.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  test("staff read their branch only; another restaurant reads nothing", async () => {
    const staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" }); // Hoàn Kiếm only
    const mine = periodOf(await staff<Period>(PERIOD, { id: HK, from: FROM, to: TO }));
    assert.equal(mine.totals.orders, 4);
    const theirs = await staff<Period>(PERIOD, { id: CG, from: FROM, to: TO });
    assert.equal(theirs.data?.location?.period ?? null, null, JSON.stringify(theirs));
    const other = await edgeClient(mesh.edgeUrl, DEMO.caPhe.slug)<Period>(PERIOD, {
      id: HK,
      from: FROM,
      to: TO,
    });
    assert.equal(other.data?.location?.period ?? null, null, JSON.stringify(other));
  });
});
