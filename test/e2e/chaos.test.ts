// The short form of `npm run chaos` (scripts/mesh/chaos.ts) on a mesh with two dashboard and two
// sales replicas: under steady load (orders, MoMo webhooks) a dashboard replica, a sales replica,
// a sidecar, Redis and PostgreSQL are killed with kill -9 in turn and restarted by the launcher's
// supervisor. Afterwards the dashboard's totals equal sales' truth (two replicas consuming one
// stream, two outbox relays), every webhook-paid order has exactly one payment, and no payment or
// notification exists twice.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { chaosTable, runChaos } from "../../scripts/mesh/chaos.js";
import { portsOf, startTestMesh } from "../support/mesh.js";

/** A Prometheus counter summed over its series, from one replica's ops port. */
async function counterOf(mesh: Mesh, replica: number, name: string): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${portsOf(mesh, "dashboard", replica).ops}/metrics`)
  ).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

describe(
  "chaos (short): kill -9 under load with replicas, nothing lost or counted twice",
  { timeout: 1_200_000 },
  () => {
    let mesh: Mesh;
    before(async () => {
      process.env.EDGE_RATE_LIMIT_MAX = "100000";
      mesh = await startTestMesh({ replicas: { dashboard: 2, sales: 2 } });
    });
    after(async () => {
      await mesh?.stop();
    });

    test("dashboard-2, sales, sales-2.daprd, redis and postgres killed in turn: totals exact, no duplicates, each recovered", async (t) => {
      const report = await runChaos({
        mesh,
        faults: ["dashboard-2", "sales", "sales-2.daprd", "redis", "postgres"],
        clients: 4,
        steadyMs: 2_000,
        log: (l) => t.diagnostic(l),
      });
      t.diagnostic(`\n${chaosTable(report)}`);
      assert.equal(report.faults.length, 5);
      assert.ok(report.orders > 20, `steady load: ${report.orders} orders`);
      assert.ok(report.momoPayments > 5, `webhooks: ${report.momoPayments}`);
      // Both dashboard replicas applied events: the exact totals came from concurrent consumers.
      const applied = await Promise.all(
        [1, 2].map((r) => counterOf(mesh, r, "dashboard_order_events_total")),
      );
      t.diagnostic(`order events handled by dashboard replica 1: ${applied[0]}, replica 2: ${applied[1]}`);
      assert.ok(
        applied.every((n) => n > 0),
        `both replicas consumed: ${applied.join(", ")}`,
      );
      // Recovery times are printed (the table above), not asserted: a busy machine makes any
      // bound flaky; `npm run chaos` flags a fault above the 10 s target on a quiet one.
      assert.deepEqual(
        report.faults.map((f) => f.fault),
        ["dashboard-2", "sales", "sales-2.daprd", "redis", "postgres"],
      );
    });
  },
);
