// Periods and the chain view against a real PostgreSQL: location-day rows written directly, the
// answers compared with sums computed here from the same rows.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { AppError } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { DashboardDB } from "../src/db.js";
import { chainOverview, rankBranches, requireChainReader } from "../src/chain.js";
import {
  bucketOf,
  lastYearRange,
  periodReport,
  previousRange,
  rangeArgs,
  rollUp,
  sameDayLastYear,
} from "../src/periods.js";
import { addDays } from "../src/report.js";

let database: TestServiceDatabase<DashboardDB>;
before(async () => {
  database = await startServiceDatabase<DashboardDB>(
    "dashboard",
    path.join(import.meta.dirname, "..", "migrations"),
  );
});
after(() => database?.stop());

type DayRow = { locationId: string; day: string; revenue: number; orders: number };

async function seed(tenantId: string, rows: DayRow[]) {
  await withTenant(database.db, tenantId, (trx) =>
    trx
      .insertInto("location_days")
      .values(
        rows.map((r) => ({
          tenant_id: tenantId,
          location_id: r.locationId,
          business_day: r.day,
          revenue_vnd: r.revenue,
          orders: r.orders,
          gross_vnd: r.revenue + 1_000 * r.orders,
          discount_vnd: 1_000 * r.orders,
        })),
      )
      .execute(),
  );
}

/** Deterministic day figures: revenue depends on the day and location, some days closed. */
function figure(locationIndex: number, day: string): { revenue: number; orders: number } {
  const n = Number(day.replaceAll("-", "")) % 97;
  if (n % 11 === 0) return { revenue: 0, orders: 0 };
  const orders = 5 + ((n + locationIndex * 7) % 40);
  return { revenue: orders * (60_000 + locationIndex * 5_000), orders };
}

function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

test("calendar: ISO weeks start on Monday, months are calendar months, last year keeps the dates", () => {
  assert.deepEqual(bucketOf("2026-11-29", "week"), { from: "2026-11-23", to: "2026-11-29" }); // a Sunday
  assert.deepEqual(bucketOf("2026-11-30", "week"), { from: "2026-11-30", to: "2026-12-06" }); // a Monday
  assert.deepEqual(bucketOf("2024-02-10", "month"), { from: "2024-02-01", to: "2024-02-29" });
  assert.deepEqual(bucketOf("2026-12-31", "month"), { from: "2026-12-01", to: "2026-12-31" });
  assert.equal(sameDayLastYear("2024-02-29"), "2023-02-28");
  assert.deepEqual(lastYearRange("2026-03-01", "2026-03-31"), { from: "2025-03-01", to: "2025-03-31" });
  assert.deepEqual(previousRange("2026-11-01", "2026-11-30"), { from: "2026-10-02", to: "2026-10-31" });
  assert.deepEqual(rangeArgs("2025-01-01", "2025-12-31").days, 365);
  assert.equal(rangeArgs("2024-01-01", "2024-12-31").days, 366); // a leap year fits
  const refused = (from: string, to: string, field: string) =>
    assert.throws(
      () => rangeArgs(from, to),
      (e: unknown) => e instanceof AppError && e.code === "BAD_USER_INPUT" && e.details?.field === field,
    );
  refused("2024-01-01", "2025-01-01", "to"); // 367 days
  refused("2026-02-01", "2026-01-31", "to"); // backwards
  refused("2026-02-30", "2026-03-01", "from"); // not a date
  refused("1999-12-31", "2000-01-02", "from"); // outside the years answered
});

test("a year of a location: daily series, weeks, months and both comparisons equal the rows' sums", async () => {
  const tenant = randomUUID();
  const loc = randomUUID();
  const from = "2025-03-15";
  const to = "2026-03-14";
  const seeded = daysOf("2024-03-01", "2026-04-30").map((day) => ({
    locationId: loc,
    day,
    ...figure(1, day),
  }));
  // Another location of the same tenant must not leak in.
  await seed(tenant, [
    ...seeded,
    ...daysOf(from, to).map((day) => ({ locationId: randomUUID(), day, revenue: 1, orders: 1 })),
  ]);
  const report = await periodReport(database.db, tenant, loc, from, to);

  const sumOver = (a: string, b: string) =>
    seeded
      .filter((r) => r.day >= a && r.day <= b)
      .reduce((s, r) => ({ revenue: s.revenue + r.revenue, orders: s.orders + r.orders }), {
        revenue: 0,
        orders: 0,
      });
  assert.equal(report.daily.length, 365);
  assert.deepEqual(
    report.daily.map((d) => [d.from, d.revenueVnd, d.orders]),
    daysOf(from, to).map((day) => [day, figure(1, day).revenue, figure(1, day).orders]),
  );
  const total = sumOver(from, to);
  assert.equal(report.totals.revenueVnd, total.revenue);
  assert.equal(report.totals.orders, total.orders);
  assert.equal(report.totals.averageTicketVnd, Math.round(total.revenue / total.orders));
  assert.equal(report.totals.discountVnd, 1_000 * total.orders);

  const prev = sumOver("2024-03-15", "2025-03-14");
  assert.equal(report.previousPeriod.totals.revenueVnd, prev.revenue);
  assert.equal(report.previousPeriod.totals.from, "2024-03-15");
  assert.equal(report.previousPeriod.revenueChange, (total.revenue - prev.revenue) / prev.revenue);
  const ly = sumOver("2024-03-15", "2025-03-14"); // a year back: the same dates here
  assert.equal(report.samePeriodLastYear.totals.revenueVnd, ly.revenue);
  assert.equal(report.samePeriodLastYear.ordersChange, (total.orders - ly.orders) / ly.orders);

  const weeks = rollUp(report.daily, "week");
  assert.equal(weeks[0]!.from, from); // a Saturday: the first week is cut
  assert.equal(weeks[0]!.to, "2025-03-16");
  assert.equal(weeks[0]!.complete, false);
  assert.ok(
    weeks.slice(1, -1).every((w) => w.complete && w.days === 7 && new Date(w.from).getUTCDay() === 1),
  );
  for (const w of weeks) assert.equal(w.revenueVnd, sumOver(w.from, w.to).revenue);
  const months = rollUp(report.daily, "month");
  assert.equal(months.length, 13);
  assert.deepEqual(
    [months[0]!.from, months[0]!.to, months[0]!.complete],
    ["2025-03-15", "2025-03-31", false],
  );
  assert.deepEqual([months[1]!.from, months[1]!.to, months[1]!.complete], ["2025-04-01", "2025-04-30", true]);
  for (const m of months) assert.equal(m.revenueVnd, sumOver(m.from, m.to).revenue);
  assert.equal(
    months.reduce((s, m) => s + m.revenueVnd, 0),
    total.revenue,
  );

  // Another tenant reads nothing of it (row-level security).
  const other = await periodReport(database.db, randomUUID(), loc, from, to);
  assert.equal(other.totals.revenueVnd, 0);
});

test("chain: every branch in scope, ranked, against the period before, with the totals", async () => {
  const tenant = randomUUID();
  const branches = [0, 1, 2, 3].map((i) => ({ id: randomUUID(), name: `Chi nhánh ${i}` }));
  const day = "2026-11-20";
  const rows: DayRow[] = [
    { locationId: branches[0]!.id, day, revenue: 500_000, orders: 10 },
    { locationId: branches[1]!.id, day, revenue: 900_000, orders: 12 },
    { locationId: branches[2]!.id, day, revenue: 500_000, orders: 10 },
    { locationId: branches[0]!.id, day: "2026-11-19", revenue: 250_000, orders: 5 },
    { locationId: branches[1]!.id, day: "2026-11-18", revenue: 7_000_000, orders: 70 }, // outside both
  ];
  await seed(tenant, rows);
  const owner = { tenantId: tenant, role: "owner" as const };
  const all = await chainOverview(database.db, owner, branches, day, day);
  assert.deepEqual(
    all.branches.map((b) => [b.name, b.rank, b.revenueVnd, b.orders]),
    [
      ["Chi nhánh 1", 1, 900_000, 12],
      ["Chi nhánh 0", 2, 500_000, 10],
      ["Chi nhánh 2", 2, 500_000, 10],
      ["Chi nhánh 3", 4, 0, 0], // sold nothing: still listed
    ],
  );
  const b0 = all.branches.find((b) => b.locationId === branches[0]!.id)!;
  assert.equal(b0.previousRevenueVnd, 250_000);
  assert.equal(b0.revenueChange, 1);
  assert.equal(b0.averageTicketVnd, 50_000);
  assert.equal(all.branches.find((b) => b.locationId === branches[1]!.id)!.revenueChange, null);
  assert.deepEqual(
    { ...all.totals, revenueChange: all.totals.revenueChange },
    {
      branches: 4,
      revenueVnd: 1_900_000,
      orders: 32,
      averageTicketVnd: Math.round(1_900_000 / 32),
      previousRevenueVnd: 250_000,
      previousOrders: 5,
      revenueChange: (1_900_000 - 250_000) / 250_000,
      ordersChange: (32 - 5) / 5,
    },
  );
  assert.equal(all.previousFrom, "2026-11-19");

  const manager = { tenantId: tenant, role: "manager" as const, locationIds: [branches[2]!.id] };
  const mine = await chainOverview(database.db, manager, branches, day, day);
  assert.deepEqual(
    mine.branches.map((b) => [b.locationId, b.rank]),
    [[branches[2]!.id, 1]],
  );
  assert.equal(mine.totals.revenueVnd, 500_000);

  assert.throws(
    () => requireChainReader({ tenantId: tenant, role: "staff", locationIds: [branches[0]!.id] }),
    (e: unknown) => e instanceof AppError && e.code === "FORBIDDEN",
  );
  assert.deepEqual(
    rankBranches([
      { locationId: "b", name: "B", revenueVnd: 1, orders: 1 },
      { locationId: "a", name: "A", revenueVnd: 1, orders: 2 },
    ]).map((r) => [r.locationId, r.rank]),
    [
      ["a", 1],
      ["b", 1],
    ],
  );
});

test("roll-ups: each bucket is the calendar week or month of its days, clipped to the range (checked against bucketOf)", () => {
  const zero = { grossSalesVnd: 0, paidOrders: 0, discountVnd: 0, voidedOrders: 0, voidedVnd: 0 };
  for (const [from, to] of [
    ["2024-01-29", "2024-03-03"], // Monday … Sunday, a leap February
    ["2025-12-31", "2026-02-01"], // a year boundary, a cut week at both ends
    ["2026-02-01", "2026-02-28"], // one whole month
    ["2026-11-29", "2026-11-29"], // one day
  ] as const) {
    const daily = daysOf(from, to).map((day, i) => ({
      from: day,
      to: day,
      days: 1,
      revenueVnd: 1_000 * (i + 1),
      orders: i + 1,
      averageTicketVnd: 1_000,
      ...zero,
    }));
    for (const grain of ["week", "month"] as const) {
      const expected: { from: string; to: string; complete: boolean; revenueVnd: number }[] = [];
      for (const d of daily) {
        const whole = bucketOf(d.from, grain);
        const last = expected.at(-1);
        if (last && bucketOf(last.from, grain).from === whole.from) {
          last.to = d.to;
          last.revenueVnd += d.revenueVnd;
        } else expected.push({ from: d.from, to: d.to, complete: false, revenueVnd: d.revenueVnd });
      }
      for (const e of expected) {
        const whole = bucketOf(e.from, grain);
        e.complete = whole.from === e.from && whole.to === e.to;
      }
      assert.deepEqual(
        rollUp(daily, grain).map((b) => ({
          from: b.from,
          to: b.to,
          complete: b.complete,
          revenueVnd: b.revenueVnd,
        })),
        expected,
        `${grain} ${from} … ${to}`,
      );
    }
  }
});
