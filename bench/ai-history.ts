// Order history for one demo location, published as real CloudEvents through a sidecar's pub/sub
// API (as sales' outbox relay does), so the ai service's subscription and actor record it. Used
// by test/e2e/ai.test.ts and bench/ai.ts.
import { randomUUID } from "node:crypto";
import { DEMO } from "../test/support/graphql-client.js";

export const DEMO_TENANT_ID = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01"; // pho-bo-hanoi, demo/demo-data.json
export const DEMO_LOCATION = DEMO.phoBo.hoanKiem;

/** The UTC date `daysAgo` days ago: the business day a past day's orders carry here. */
export function businessDayOf(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The `i`-th order of a business day at the demo location: `phoBo` bowls of phở and a trà đá,
 * alternately at lunch and dinner (05:xxZ / 12:xxZ in Vietnam).
 */
export function demoOrder(
  businessDay: string,
  i: number,
  phoBo: number,
  paymentMethod: "cash" | "momo",
): Record<string, unknown> {
  return {
    orderId: randomUUID(),
    tenantId: DEMO_TENANT_ID,
    locationId: DEMO_LOCATION,
    businessDay,
    createdAt: `${businessDay}T${i % 2 ? "12" : "05"}:${String(i).padStart(2, "0")}:00.000Z`,
    paymentMethod,
    totalVnd: 55_000 * phoBo + 5_000,
    lines: [
      { itemId: DEMO.phoBo.phoTai, name: "Phở bò tái", quantity: phoBo, unitPriceVnd: 55_000 },
      { itemId: DEMO.phoBo.traDa, name: "Trà đá", quantity: 1, unitPriceVnd: 5_000 },
    ],
  };
}

/** Orders of one past business day: a weekly pattern (weekends busier), lunch and dinner. */
export function ordersOf(daysAgo: number): Record<string, unknown>[] {
  const businessDay = businessDayOf(daysAgo);
  const weekend = [0, 6].includes(new Date(`${businessDay}T00:00:00Z`).getUTCDay());
  const count = (weekend ? 9 : 6) + (daysAgo % 3);
  return Array.from({ length: count }, (_, i) =>
    demoOrder(businessDay, i, 1 + (i % 2), i % 3 ? "cash" : "momo"),
  );
}

/**
 * Publishes `days` days of history (yesterday backwards); returns the number of orders.
 * `ordersFor` gives a past day's orders by how many days ago it was (default: `ordersOf`).
 */
export async function publishHistory(
  daprHttpPort: number,
  days: number,
  /** The publishing app's Dapr API token (its sidecar refuses calls without it). */
  daprApiToken: string,
  ordersFor: (daysAgo: number) => Record<string, unknown>[] = ordersOf,
): Promise<number> {
  const events = Array.from({ length: days }, (_, k) => ordersFor(days - k)).flat();
  for (let i = 0; i < events.length; i += 25) {
    await Promise.all(
      events.slice(i, i + 25).map(async (data) => {
        const res = await fetch(`http://127.0.0.1:${daprHttpPort}/v1.0/publish/pubsub/orders`, {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json", "dapr-api-token": daprApiToken },
          body: JSON.stringify({
            specversion: "1.0",
            id: randomUUID(),
            source: "ai-history",
            type: "order.created",
            datacontenttype: "application/json",
            data,
          }),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`publish: ${res.status} ${await res.text()}`);
      }),
    );
  }
  return events.length;
}
