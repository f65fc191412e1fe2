// The daily digest once a business day is closed, and AI recommendations and anomalies, reach the
// owner's feed in Vietnamese.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { businessDay } from "@lsp/contracts";
import { asApp, asSidecarOf } from "../../support/mesh.js";
import { DEMO, eventually } from "../../support/graphql-client.js";
import { tenantId, type PaymentsMesh } from "../../support/payments.js";
import { feed } from "../../support/notifications.js";

export function notificationDigestAndAiScenarios(h: PaymentsMesh): void {
  test("daily digest: once a business day is closed its figures reach the feed in Vietnamese", async () => {
    const { mesh } = h;
    const yesterday = businessDay(new Date(Date.now() - 86_400_000), 4, "Asia/Ho_Chi_Minh");
    // Published as the dashboard publishes it (only dashboard may publish to `dashboard`).
    const sidecar = `http://127.0.0.1:${mesh.plan.apps.dashboard.daprHttp}/v1.0/publish/pubsub/dashboard`;
    const res = await fetch(sidecar, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json", ...asApp(mesh, "dashboard") },
      body: JSON.stringify({
        specversion: "1.0",
        id: randomUUID(),
        source: "test",
        type: "dashboard.updated",
        datacontenttype: "application/json",
        data: {
          tenantId: tenantId(DEMO.phoBo.slug),
          locationId: DEMO.phoBo.hoanKiem,
          businessDay: yesterday,
          revenueVnd: 1_250_000,
          orders: 25,
        },
      }),
    });
    assert.equal(res.status, 204);
    const [y, m, d] = yesterday.split("-");
    const title = `Tổng kết ngày ${d}/${m}/${y}: 1.250.000 ₫`;
    // What the `digest-cron` input binding does on its schedule.
    const digest = `http://127.0.0.1:${mesh.plan.apps.notifications.app}/digest-cron`;
    const entry = await eventually("digest in the feed", async () => {
      await fetch(digest, { method: "POST", headers: asSidecarOf(mesh, "notifications") });
      return (await feed(h)).notifications.find((n) => n.title.replace(/\u00a0/g, " ") === title);
    });
    assert.equal(entry.kind, "digest");
    assert.match(entry.body.replace(/\u00a0/g, " "), /: 25 đơn, trung bình 50.000 ₫ mỗi đơn\.$/);
    const sent = (await (
      await fetch(digest, { method: "POST", headers: asSidecarOf(mesh, "notifications") })
    ).json()) as {
      sent: number;
    };
    assert.equal(sent.sent, 0, "one digest per location and day");
  });

  test("AI recommendations and anomalies reach the feed in Vietnamese", async () => {
    const { mesh } = h;
    const publish = async (type: string, data: Record<string, unknown>) => {
      const res = await fetch(
        // Published as the ai service publishes it (only ai may publish to `ai`).
        `http://127.0.0.1:${mesh.plan.apps.ai.daprHttp}/v1.0/publish/pubsub/ai`,
        {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json", ...asApp(mesh, "ai") },
          body: JSON.stringify({
            specversion: "1.0",
            id: randomUUID(),
            source: "test",
            type,
            datacontenttype: "application/json",
            data,
          }),
        },
      );
      assert.equal(res.status, 204);
    };
    const common = { tenantId: tenantId(DEMO.phoBo.slug), locationId: DEMO.phoBo.hoanKiem };
    await publish("ai.recommendation.created", {
      ...common,
      recommendationId: randomUUID(),
      kind: "promote",
      title: "Đẩy mạnh Phở bò chín vào buổi trưa",
      reason: "Bán chậm hơn 30% so với tuần trước",
      priority: "medium",
      createdAt: new Date().toISOString(),
    });
    await publish("ai.anomaly.detected", {
      ...common,
      anomalyId: randomUUID(),
      businessDay: businessDay(new Date(), 4, "Asia/Ho_Chi_Minh"),
      at: "2026-01-01T05:00:00Z",
      kind: "revenue_drop",
      description: "Doanh thu giảm mạnh so với dự báo",
      severity: "high",
      score: -0.4,
    });
    const entries = await eventually("AI entries in the feed", async () => {
      const f = await feed(h);
      const rec = f.notifications.find((n) => n.kind === "recommendation");
      const anomaly = f.notifications.find((n) => n.kind === "anomaly");
      return rec && anomaly ? { rec, anomaly } : undefined;
    });
    assert.equal(entries.rec.title, "Gợi ý: Đẩy mạnh Phở bò chín vào buổi trưa");
    assert.equal(entries.anomaly.title, "Cảnh báo bất thường (mức cao)");
    assert.equal(entries.anomaly.body, "Doanh thu giảm mạnh so với dự báo — 12:00 01/01/2026");
  });
}
