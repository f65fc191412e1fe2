// The synthetic history generator: reproducible, shaped like docs/domain.md §4 says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { businessDay } from "@lsp/contracts";
import {
  HOUR_PROFILE,
  calendarFactor,
  generateHistory,
  negativeBinomial,
  rng,
  type GenLocation,
} from "./generate.js";

const location: GenLocation = {
  id: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01",
  timeZone: "Asia/Ho_Chi_Minh",
  cutoverHour: 4,
  menu: Array.from({ length: 12 }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    name: `Món ${i}`,
    category: i < 6 ? "Phở" : "Đồ uống",
    priceVnd: 10_000 + i * 5_000,
    available: true,
  })),
};
const now = new Date("2026-11-23T08:00:00Z"); // 15:00 in Hà Nội

test("the same seed gives the same history; another seed another", () => {
  const a = generateHistory([location], { seed: 1, days: 7, now });
  const b = generateHistory([location], { seed: 1, days: 7, now });
  const c = generateHistory([location], { seed: 2, days: 7, now });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.orders, c.orders);
});

test("orders fall on their business day, never after now, with unique idempotency keys", () => {
  const { orders } = generateHistory([location], { seed: 3, days: 14, now });
  assert.ok(orders.length > 500);
  assert.equal(new Set(orders.map((o) => o.idempotencyKey)).size, orders.length);
  for (const o of orders) {
    assert.ok(Date.parse(o.occurredAt) <= now.getTime());
    assert.equal(businessDay(new Date(o.occurredAt), 4), o.businessDay);
  }
  assert.equal(new Set(orders.map((o) => o.businessDay)).size, 14);
});

test("demand follows the hour profile, item popularity is skewed, weekends are busier", () => {
  const { orders } = generateHistory([location], { seed: 4, days: 56, now, anomalyRate: 0 });
  const byHour = new Array(24).fill(0);
  for (const o of orders) byHour[(new Date(o.occurredAt).getUTCHours() + 7) % 24]++;
  const lunch = byHour[12];
  const night = byHour[3];
  assert.ok(lunch > 10 * night, `lunch ${lunch} vs 03:00 ${night}`);
  assert.ok((HOUR_PROFILE[12] ?? 0) > (HOUR_PROFILE[15] ?? 0));
  const qty = new Map<string, number>();
  for (const o of orders) for (const l of o.lines) qty.set(l.itemId, (qty.get(l.itemId) ?? 0) + l.quantity);
  const sorted = [...qty.values()].sort((x, y) => y - x);
  assert.ok(
    (sorted[0] ?? 0) > 3 * (sorted[sorted.length - 1] ?? 1),
    "Zipf: the top item sells far more than the last",
  );
  const perDay = new Map<string, number>();
  for (const o of orders) perDay.set(o.businessDay, (perDay.get(o.businessDay) ?? 0) + 1);
  const mean = (dow: number[]) => {
    const days = [...perDay].filter(([d]) => dow.includes(new Date(`${d}T00:00:00Z`).getUTCDay()));
    return days.reduce((s, [, n]) => s + n, 0) / days.length;
  };
  assert.ok(mean([0, 6]) > mean([1, 2, 3]), "weekends above early weekdays");
});

test("Tết closes most places; holidays lift demand; the negative binomial has the asked mean", () => {
  assert.ok(calendarFactor("2026-02-17") < 0.5);
  assert.ok(calendarFactor("2026-04-30") > 1);
  assert.equal(calendarFactor("2026-11-18"), 1);
  const rand = rng(9);
  const draws = Array.from({ length: 20_000 }, () => negativeBinomial(rand, 12, 4));
  const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
  const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length;
  assert.ok(Math.abs(mean - 12) < 0.3, `mean ${mean}`);
  // Overdispersed: variance = μ + μ²/k = 48.
  assert.ok(Math.abs(variance - 48) < 4, `variance ${variance}`);
});

test("injected anomalies are listed and visible in the data", () => {
  const { orders, anomalies } = generateHistory([location], { seed: 5, days: 60, now, anomalyRate: 0.2 });
  const drop = anomalies.find((a) => a.kind === "revenue_drop");
  assert.ok(drop);
  const lunchOrders = (day: string) =>
    orders.filter(
      (o) => o.businessDay === day && [11, 12, 13].includes((new Date(o.occurredAt).getUTCHours() + 7) % 24),
    ).length;
  const normalDays = [...new Set(orders.map((o) => o.businessDay))].filter(
    (d) => !anomalies.some((a) => a.businessDay === d),
  );
  const normalLunch = normalDays.reduce((s, d) => s + lunchOrders(d), 0) / normalDays.length;
  assert.ok(lunchOrders(drop.businessDay) < normalLunch * 0.6);
});
