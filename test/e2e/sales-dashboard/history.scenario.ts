// Generated history loaded through the public API: the SPEC §4 seed queries against an independent
// computation, the rebuild command, and a new restaurant onboarded by the generator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { businessDay } from "@lsp/contracts";
import { REPO } from "../../../scripts/mesh/mesh.js";
import { serviceDatabaseUrl } from "../../../scripts/mesh/infra.js";
import { expectedDay, generateHistory } from "../../../scripts/datagen/generate.js";
import { fetchGenLocation, loadHistory, type Gql } from "../../../scripts/datagen/load.js";
import { createGenTenant } from "../../../scripts/datagen/tenants.js";
import { DEMO, edgeClient, eventually } from "../../support/graphql-client.js";
import type { SalesDashboardMesh } from "../../support/sales-dashboard.js";

export function historyScenarios(h: SalesDashboardMesh): void {
  test("generated history loads through the API; the SPEC §4 seed queries return the right numbers", async () => {
    const { gql, plan } = h;
    const locations = await Promise.all(
      [DEMO.phoBo.hoanKiem, DEMO.phoBo.cauGiay].map((id) => fetchGenLocation(gql, id)),
    );
    const { orders } = generateHistory(locations, {
      seed: 2026,
      days: 9,
      now: new Date(),
      baseOrdersPerDay: 30,
    });
    plan.orders = orders;
    for (const l of locations)
      for (const m of l.menu) plan.prices.set(m.id, { name: m.name, priceVnd: m.priceVnd });
    await loadHistory(gql, orders, { concurrency: 8 });

    const hk = locations[0]!;
    const today = businessDay(new Date(), hk.cutoverHour, hk.timeZone);
    const expected = expectedDay(orders, plan.prices, hk.id, today);
    const first = /* GraphQL */ `query { location(id: "${hk.id}") { todayRevenue todayOrders } }`;
    const seen = await eventually(
      "dashboard reaches the generated totals",
      async () => {
        const r = await gql<{ location: { todayRevenue: number; todayOrders: number } }>(first);
        return r.data?.location.todayOrders === expected.orders ? r.data.location : undefined;
      },
      120_000,
    );
    assert.deepEqual(seen, { todayRevenue: expected.revenue, todayOrders: expected.orders });

    const second = /* GraphQL */ `query { location(id: "${hk.id}") { todayRevenue todayOrders hourlyTrends { hour revenue } topItems { name quantity revenue } recommendations { title priority } } }`;
    const res = await gql<{
      location: {
        todayRevenue: number;
        todayOrders: number;
        hourlyTrends: { hour: number; revenue: number }[];
        topItems: { name: string; quantity: number; revenue: number }[];
        recommendations: { title: string; priority: string }[] | null;
      };
    }>(second);
    const loc = res.data?.location;
    assert.ok(loc, JSON.stringify(res.errors));
    // Only the AI part may be degraded; the dashboard fields must be exact.
    for (const e of res.errors ?? []) assert.equal(e.path?.[1], "recommendations", JSON.stringify(e));
    assert.equal(loc.todayRevenue, expected.revenue);
    assert.equal(loc.todayOrders, expected.orders);
    const byHour = expected.byHour(hk.timeZone);
    assert.equal(loc.hourlyTrends.length, 24);
    assert.equal(loc.hourlyTrends[0]?.hour, hk.cutoverHour);
    for (const h of loc.hourlyTrends) assert.equal(h.revenue, byHour.get(h.hour) ?? 0, `hour ${h.hour}`);
    const wanted = [...expected.items.values()].sort(
      (a, b) => b.quantity - a.quantity || b.revenue - a.revenue,
    );
    assert.deepEqual(
      loc.topItems.map((i) => i.quantity),
      wanted.slice(0, loc.topItems.length).map((i) => i.quantity),
    );
    for (const i of loc.topItems) {
      const e = [...expected.items.values()].find((x) => x.name === i.name);
      assert.deepEqual({ q: i.quantity, r: i.revenue }, { q: e?.quantity, r: e?.revenue }, i.name);
    }

    // Same day last week and week-to-date, against the plan.
    const lastWeekDay = new Date(Date.parse(`${today}T00:00:00Z`) - 7 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const lastWeek = expectedDay(orders, plan.prices, hk.id, lastWeekDay);
    const cmp = await gql<{ location: { today: { sameDayLastWeek: { revenue: number; orders: number } } } }>(
      `query { location(id: "${hk.id}") { today { sameDayLastWeek { revenue orders } } } }`,
    );
    assert.deepEqual(cmp.data?.location.today.sameDayLastWeek, {
      revenue: lastWeek.revenue,
      orders: lastWeek.orders,
    });
  });

  test("the rebuild command replays the journal into a fresh read model with identical numbers", async () => {
    const { mesh, gql, plan } = h;
    const query = `query { a: location(id: "${DEMO.phoBo.hoanKiem}") { today { netRevenue orders voids discounts hourly { revenue } topItems(limit: 50) { quantity revenue } paymentMix { method revenue } weekToDate { revenue lastWeekRevenue } } } b: location(id: "${DEMO.phoBo.cauGiay}") { today { netRevenue orders } } }`;
    const before = await gql(query);
    await promisify(execFile)(process.execPath, ["--import", "tsx", "src/rebuild.ts"], {
      cwd: path.join(REPO, "services", "dashboard"),
      env: { ...process.env, DATABASE_URL: serviceDatabaseUrl(mesh.plan.postgres, "dashboard") },
    });
    // The owner mutation rebuilds again and drops the cached reports: what follows is computed
    // from the rebuilt facts.
    // It runs in the background: the mutation answers with the job, which the owner polls.
    type Job = { id: string; status: string; events: number | null; locationDays: number | null };
    const JOB = "id status events locationDays error";
    const started = await gql<{ rebuildDashboard: Job }>(`mutation { rebuildDashboard { ${JOB} } }`);
    const job = started.data?.rebuildDashboard;
    assert.ok(job, JSON.stringify(started.errors));
    // Asking again while it runs gives the same job, not a second replay.
    const again = await gql<{ rebuildDashboard: Job }>(`mutation { rebuildDashboard { ${JOB} } }`);
    if (again.data?.rebuildDashboard.status === "RUNNING")
      assert.equal(again.data.rebuildDashboard.id, job.id);
    const done = await eventually(
      "the rebuild job finishes",
      async () => {
        const r = await gql<{ dashboardRebuild: Job | null }>(
          `query { dashboardRebuild(id: "${job.id}") { ${JOB} } }`,
        );
        const j = r.data?.dashboardRebuild;
        return j && j.status !== "RUNNING" ? j : undefined;
      },
      120_000,
    );
    assert.equal(done.status, "DONE", JSON.stringify(done));
    assert.ok((done.events ?? 0) >= plan.orders.length, JSON.stringify(done));
    assert.ok((done.locationDays ?? 0) >= 9);
    // Staff may not rebuild; a malformed job id is a typed error.
    const staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" }) as Gql;
    const refused = await staff("mutation { rebuildDashboard { id } }");
    assert.equal(refused.errors?.[0]?.extensions?.code, "FORBIDDEN", JSON.stringify(refused));
    const malformed = await gql(`query { dashboardRebuild(id: "nope") { id } }`);
    assert.equal(malformed.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(malformed));
    const after = await gql(query);
    assert.equal(after.errors, undefined, JSON.stringify(after.errors));
    assert.deepEqual(after.data, before.data);
  });

  test("the generator onboards a new restaurant through the API: branches, menu and history, exact on the dashboard", async () => {
    const { mesh } = h;
    const fresh = await createGenTenant(mesh.edgeUrl, { seed: 2026, index: 1, locations: 2 });
    assert.equal(fresh.locationIds.length, 2);
    const locations = await Promise.all(fresh.locationIds.map((id) => fetchGenLocation(fresh.gql, id)));
    assert.ok(locations.every((l) => l.menu.length >= 10 && l.timeZone === "Asia/Ho_Chi_Minh"));
    const { orders } = generateHistory(locations, {
      seed: 7,
      days: 2,
      now: new Date(),
      baseOrdersPerDay: 12,
    });
    await loadHistory(fresh.gql, orders, { concurrency: 4 });
    const prices = new Map(locations.flatMap((l) => l.menu.map((m) => [m.id, m] as const)));
    for (const l of locations) {
      const expected = expectedDay(orders, prices, l.id, businessDay(new Date(), l.cutoverHour, l.timeZone));
      await eventually(
        `${fresh.slug}: dashboard reaches the generated totals`,
        async () => {
          const r = await fresh.gql<{ location: { todayRevenue: number; todayOrders: number } }>(
            `query { location(id: "${l.id}") { todayRevenue todayOrders } }`,
          );
          const got = r.data?.location;
          if (got?.todayOrders === expected.orders && got.todayRevenue === expected.revenue) return got;
          // Thrown, so that a timeout says what the dashboard showed last.
          throw new Error(
            `shows ${JSON.stringify(got ?? r.errors)}, generated ${expected.orders} orders, ${expected.revenue} VND`,
          );
        },
        60_000,
      );
    }
    // Opening a branch: owners only, with a time zone the runtime knows.
    const badZone = await fresh.gql(
      `mutation { createLocation(input: { name: "Sao Hỏa", timeZone: "Mars/Olympus" }) { id } }`,
    );
    assert.equal(badZone.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(badZone));
    const staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" }) as Gql;
    const refused = await staff(`mutation { createLocation(input: { name: "Chi nhánh lậu" }) { id } }`);
    assert.equal(refused.errors?.[0]?.extensions?.code, "FORBIDDEN", JSON.stringify(refused));
    const after = await fresh.gql<{ locations: { id: string }[] }>("query { locations { id } }");
    assert.equal(after.data?.locations.length, 2, "refused branches wrote nothing");
  });
}
