// The dashboard killed while it applies a burst of orders in batches (issue 13): deliveries of
// the batch in flight were never acknowledged, so Dapr redelivers them; the event-id claims
// committed with each batch make a redelivery of anything already applied change nothing. The
// read model ends equal to sales' truth: nothing lost, nothing doubled.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import {
  CA_PHE,
  counter,
  gqlFor,
  orderBurst,
  untilDashboardEqualsSales,
  type Gql,
} from "../support/readmodel.js";

describe("dashboard restarted mid-batch", { timeout: 900_000 }, () => {
  let mesh: Mesh;
  let gql: Gql;

  before(async () => {
    process.env.EDGE_RATE_LIMIT_MAX = "100000";
    mesh = await startTestMesh();
    gql = gqlFor(mesh, CA_PHE.slug);
  });
  after(async () => {
    await mesh?.stop();
  });

  test("600 orders from 16 clients, the dashboard killed while applying them: equal to sales, nothing lost or doubled", async (t) => {
    const tenantId = (await gql<{ tenant: { id: string } }>("query { tenant { id } }")).data!.tenant.id;
    let restarted: Promise<void> | undefined;
    await orderBurst(gql, 600, 16, async (i) => {
      if (i === 200) {
        // Kill only once the dashboard is visibly applying batches of this burst.
        assert.ok((await counter(mesh, "dashboard", "dashboard_order_batches_total")) > 0);
        restarted = mesh.killApp("dashboard").then(() => mesh.restartApp("dashboard"));
      }
    });
    await restarted;
    // Deliveries refused while the dashboard was down come back after the stream's processing
    // timeout (60 s, components/local/pubsub.yaml).
    const truth = await untilDashboardEqualsSales(mesh, gql, tenantId, CA_PHE.location, 300_000);
    t.diagnostic(`sales: ${JSON.stringify(truth)}`);
    t.diagnostic(
      `after the restart: ${await counter(mesh, "dashboard", "dashboard_order_events_total", { outcome: "applied" })} applied, ` +
        `${await counter(mesh, "dashboard", "dashboard_order_events_total", { outcome: "duplicate" })} duplicates, ` +
        `${await counter(mesh, "dashboard", "dashboard_order_batches_total")} batches`,
    );
  });
});
