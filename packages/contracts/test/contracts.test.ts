import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { answerJsonSchemas, businessDay, eventJsonSchemas, parseEvent } from "../src/index.js";

const order = {
  orderId: "0b6f3c1e-8a49-4d0a-9c55-2f1f6a7b9d01",
  tenantId: "11111111-1111-4111-8111-111111111111",
  locationId: "22222222-2222-4222-8222-222222222222",
  businessDay: "2026-11-21",
  createdAt: "2026-11-21T10:15:00.000Z",
  paymentMethod: "cash",
  totalVnd: 50000,
  lines: [
    {
      itemId: "33333333-3333-4333-8333-333333333333",
      name: "Cà phê sữa đá",
      quantity: 2,
      unitPriceVnd: 25000,
    },
  ],
};

test("order.created accepts a valid payload and rejects fractional VND", () => {
  assert.deepEqual(parseEvent("order.created", order), order);
  assert.throws(() => parseEvent("order.created", { ...order, totalVnd: 500.5 }));
  assert.throws(() => parseEvent("order.created", { ...order, lines: [] }));
});

test("business day honours the cut-over hour in Asia/Ho_Chi_Minh", () => {
  // 2026-11-22 01:30 in Hà Nội (18:30Z the day before) belongs to the 21st with a 04:00 cut-over.
  assert.equal(businessDay(new Date("2026-11-21T18:30:00Z"), 4), "2026-11-21");
  // 04:00 local on the 22nd starts the 22nd.
  assert.equal(businessDay(new Date("2026-11-21T21:00:00Z"), 4), "2026-11-22");
  assert.equal(businessDay(new Date("2026-11-21T17:00:00Z"), 0), "2026-11-22");
  assert.throws(() => businessDay(new Date(), 24), RangeError);
});

test("committed JSON Schemas (used by the Python service) match the zod contracts", () => {
  const dir = join(import.meta.dirname, "..", "schemas");
  for (const [type, schema] of Object.entries({ ...eventJsonSchemas(), ...answerJsonSchemas() })) {
    const committed = JSON.parse(readFileSync(join(dir, `${type}.json`), "utf8")) as unknown;
    assert.deepEqual(
      committed,
      schema,
      `schemas/${type}.json is stale: run npm run generate -w @lsp/contracts`,
    );
  }
});

test("amounts are exact JSON numbers up to 2^53 − 1: a 5.49 bn VND order and older events read", () => {
  const banquet = {
    ...order,
    totalVnd: 5_494_500_000,
    subtotalVnd: 5_494_500_000,
    lines: [{ ...order.lines[0], quantity: 999, unitPriceVnd: 5_500_000 }],
  };
  assert.deepEqual(parseEvent("order.created", JSON.parse(JSON.stringify(banquet))), banquet);
  const atMax = { ...order, totalVnd: Number.MAX_SAFE_INTEGER };
  assert.deepEqual(parseEvent("order.created", atMax), atMax);
  assert.throws(() => parseEvent("order.created", { ...order, totalVnd: 2 ** 53 }));
  assert.throws(() => parseEvent("order.created", { ...order, totalVnd: "5494500000" }));
  // An event written before subtotal, discount and the cap existed still parses.
  assert.deepEqual(parseEvent("order.created", order), order);
  const payment = {
    paymentId: "44444444-4444-4444-8444-444444444444",
    tenantId: order.tenantId,
    locationId: order.locationId,
    orderId: order.orderId,
    provider: "momo",
    providerTransactionId: "t1",
    amountVnd: 5_494_500_000,
    occurredAt: "2026-11-21T10:20:00.000Z",
  };
  assert.deepEqual(parseEvent("payment.succeeded", payment), payment);
});
