// What a createOrder input must look like before anything is written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { CreateOrderInput } from "../src/orders.js";

const valid = {
  locationId: randomUUID(),
  idempotencyKey: randomUUID(),
  paymentMethod: "momo",
  lines: [{ itemId: randomUUID(), quantity: 2 }],
};

test("a well-formed order parses", () => {
  assert.deepEqual(CreateOrderInput.parse(valid), valid);
});

test("client mistakes are refused with the offending field named", () => {
  const cases: [string, unknown][] = [
    ["lines", { ...valid, lines: [] }],
    ["lines.0.quantity", { ...valid, lines: [{ itemId: randomUUID(), quantity: 0 }] }],
    ["lines.0.quantity", { ...valid, lines: [{ itemId: randomUUID(), quantity: 1.5 }] }],
    ["lines.0.itemId", { ...valid, lines: [{ itemId: "pho", quantity: 1 }] }],
    ["idempotencyKey", { ...valid, idempotencyKey: "short" }],
    ["paymentMethod", { ...valid, paymentMethod: "bitcoin" }],
    ["locationId", { ...valid, locationId: "not-a-uuid" }],
    [
      "lines",
      { ...valid, lines: Array.from({ length: 101 }, () => ({ itemId: randomUUID(), quantity: 1 })) },
    ],
  ];
  for (const [field, input] of cases) {
    const result = CreateOrderInput.safeParse(input);
    assert.equal(result.success, false, `accepted a bad ${field}`);
    assert.deepEqual(
      result.error?.issues.map((i) => i.path.join(".")),
      [field],
    );
  }
});
