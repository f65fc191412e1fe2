// A burst of payments on the real mesh (issue 13): webhooks are answered once the payment is
// recorded, and everything else follows through events relayed in batches. Read back from the
// broker itself (the Redis streams Dapr publishes to): every event is there exactly once, and an
// order's events are in the order they were written (order.created before order.paid; a declined
// attempt's payment.failed before the successful payment.succeeded), however the relay batched
// them; sales marks every order paid once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { signMomoIpn } from "../../services/payments/src/providers/momo.js";
import { startTestMesh } from "../support/mesh.js";
import { momoCredentials } from "../support/momo.js";
import { CREATE_ORDER, DEMO, edgeClient, eventually } from "../support/graphql-client.js";

const ORDERS = 30;

interface StreamEvent {
  id: string;
  type: string;
  orderId: string;
}

describe(
  "a burst of payments: nothing lost, nothing doubled, each order's events in order",
  { timeout: 600_000 },
  () => {
    let mesh: Mesh;
    let gql: ReturnType<typeof edgeClient>;

    before(async () => {
      mesh = await startTestMesh();
      gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    });
    after(async () => {
      await mesh?.stop();
    });

    /** The CloudEvents of one topic, in the broker's order (XRANGE of the Redis stream Dapr writes). */
    function streamEvents(topic: string): StreamEvent[] {
      const out = execFileSync(
        "redis-cli",
        ["-p", String(mesh.plan.redis), "--json", "XRANGE", topic, "-", "+"],
        {
          encoding: "utf8",
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      const entries = JSON.parse(out) as [string, string[]][];
      return entries.flatMap(([, fields]) => {
        const data = fields[fields.indexOf("data") + 1];
        if (!data) return [];
        const e = JSON.parse(data) as { id: string; type: string; data?: { orderId?: string } };
        return e.data?.orderId ? [{ id: e.id, type: e.type, orderId: e.data.orderId }] : [];
      });
    }

    test("declined then paid, each sent twice at once, for 30 orders at the same time", async () => {
      const momo = momoCredentials(mesh);
      // The orders are prepared a few at a time (what is under test is the burst of webhooks).
      const prepare = async () => {
        const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
          input: {
            locationId: DEMO.phoBo.hoanKiem,
            idempotencyKey: randomUUID(),
            paymentMethod: "momo",
            lines: [{ itemId: DEMO.phoBo.traDa, quantity: 2 }],
          },
        });
        assert.ok(created.data?.createOrder, JSON.stringify(created.errors));
        const started = await gql<{ startPayment: { reference: string } }>(
          `mutation ($o: ID!) { startPayment(orderId: $o, provider: momo) { reference } }`,
          { o: created.data.createOrder.id },
        );
        assert.ok(started.data?.startPayment, JSON.stringify(started.errors));
        return { order: created.data.createOrder, reference: started.data.startPayment.reference };
      };
      const prepared: Awaited<ReturnType<typeof prepare>>[] = [];
      let claimed = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (claimed++ < ORDERS) prepared.push(await prepare());
        }),
      );
      const ids = new Set(prepared.map((p) => p.order.id));

      let txn = Date.now() * 1000;
      const ipn = (p: (typeof prepared)[number], resultCode: number) =>
        JSON.stringify(
          signMomoIpn(momo, {
            partnerCode: momo.partnerCode,
            orderId: p.reference,
            requestId: `${p.reference}-${resultCode}`,
            amount: p.order.totalVnd,
            orderInfo: "burst",
            orderType: "momo_wallet",
            transId: txn++,
            resultCode,
            message: resultCode === 0 ? "Successful." : "Transaction denied by user.",
            payType: "qr",
            responseTime: Date.now(),
            extraData: "",
          }),
        );
      // As a provider does: a 5xx (our side busy: payments' sidecar answers 503 while the app is
      // saturated) is retried until the notice gets a final answer, which adds duplicates of its own.
      const post = async (body: string) => {
        for (let attempt = 1; ; attempt++) {
          const res = await fetch(`http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks/momo`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          await res.arrayBuffer();
          if (res.status < 500 || attempt === 20) return res.status;
          await new Promise((r) => setTimeout(r, 1000));
        }
      };
      // Every order at once; per order the declined attempt first, then the payment; each notice
      // twice at the same moment (a provider's retry racing its first delivery).
      const replies = await Promise.all(
        prepared.map(async (p) => {
          const declined = ipn(p, 1006);
          const paid = ipn(p, 0);
          const first = await Promise.all([post(declined), post(declined)]);
          const second = await Promise.all([post(paid), post(paid)]);
          return [...first, ...second];
        }),
      );
      assert.deepEqual(
        [...new Set(replies.flat())],
        [204],
        "every notice and its duplicate finally answered 204",
      );

      // Sales marks every order paid (from payment.succeeded), once.
      await eventually(
        "every order paid in sales",
        async () => {
          const statuses = await Promise.all(
            prepared.map(async (p) => {
              const r = await gql<{ order: { status: string } }>(
                `query ($id: ID!) { order(id: $id) { status } }`,
                {
                  id: p.order.id,
                },
              );
              return r.data?.order.status;
            }),
          );
          return statuses.every((s) => s === "paid") ? true : undefined;
        },
        120_000,
      );
      for (const p of prepared) {
        const r = await gql<{ payments: { status: string }[] }>(
          `query ($o: ID!) { payments(orderId: $o) { status } }`,
          { o: p.order.id },
        );
        assert.deepEqual(
          r.data?.payments.map((x) => x.status).sort(),
          ["failed", "succeeded"],
          JSON.stringify(r),
        );
      }

      // At the broker: once each, in the order written, per order.
      const expectations: [string, string[]][] = [
        ["payments", ["payment.failed", "payment.succeeded"]],
        ["orders", ["order.created", "order.paid"]],
      ];
      for (const [topic, sequence] of expectations) {
        const events = await eventually(
          `every ${topic} event at the broker`,
          async () => {
            const mine = streamEvents(topic).filter((e) => ids.has(e.orderId));
            return mine.length >= ORDERS * sequence.length ? mine : undefined;
          },
          120_000,
        );
        assert.equal(
          new Set(events.map((e) => e.id)).size,
          events.length,
          `${topic}: no event published twice`,
        );
        for (const id of ids)
          assert.deepEqual(
            events.filter((e) => e.orderId === id).map((e) => e.type),
            sequence,
            `${topic}: order ${id}'s events in the order written`,
          );
      }
    });
  },
);
