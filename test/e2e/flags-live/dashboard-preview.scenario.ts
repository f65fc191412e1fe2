// dashboard.preview switches dashboardUpdates' averageOrderVnd live for one tenant, no restart,
// the other tenant unaffected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { sseSubscription } from "../../support/sse.js";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient, eventually } from "../../support/graphql-client.js";
import { enabled, flagStream, type FlagsLiveMesh } from "../../support/flags-live.js";

export function dashboardPreviewScenarios(h: FlagsLiveMesh): void {
  test("dashboard.preview switches dashboardUpdates' averageOrderVnd live for one tenant, the other unaffected", async () => {
    const { mesh, flags } = h;
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
}
