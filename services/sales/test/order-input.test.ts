// What a createOrder input must look like before anything is written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { AppError } from "@lsp/runtime";
import { LIMITS, parseInput } from "../src/limits.js";
import { UpsertMenuItemInput } from "../src/menu.js";
import { CreateOrderInput } from "../src/orders.js";
import { resolvers, type SalesContext } from "../src/schema.js";

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
      { ...valid, lines: Array.from({ length: 201 }, () => ({ itemId: randomUUID(), quantity: 1 })) },
    ],
    ["lines.0.quantity", { ...valid, lines: [{ itemId: randomUUID(), quantity: 1_001 }] }],
    ["discountVnd", { ...valid, discountVnd: 10_000_000_001 }],
    ["discountVnd", { ...valid, discountVnd: -1 }],
    ["guests", { ...valid, guests: 501 }],
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

test("the caps themselves are allowed: 200 lines of 1,000", () => {
  const lines = Array.from({ length: LIMITS.linesPerOrder }, () => ({
    itemId: randomUUID(),
    quantity: LIMITS.lineQuantity,
  }));
  assert.equal(CreateOrderInput.parse({ ...valid, lines, discountVnd: 3_000_000_000 }).lines.length, 200);
});

test("a refused input is BAD_USER_INPUT whose message names the field and the limit", () => {
  const run = (schema: Parameters<typeof parseInput>[0], input: unknown) => {
    try {
      parseInput(schema, input);
    } catch (err) {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, "BAD_USER_INPUT");
      return err;
    }
    throw new Error("accepted");
  };
  const tooMany = run(CreateOrderInput, { ...valid, lines: [{ itemId: randomUUID(), quantity: 5_000 }] });
  assert.equal(tooMany.message, "lines.0.quantity: at most 1000 of one item per line");
  assert.equal(tooMany.details?.field, "lines.0.quantity");
  const pricey = run(UpsertMenuItemInput, {
    idempotencyKey: randomUUID(),
    category: "Tiệc",
    name: "Bào ngư",
    priceVnd: 100_000_001,
    costVnd: 0,
  });
  assert.equal(pricey.message, "priceVnd: a menu price is at most 100000000 VND");
});

test("the merge field takes at most 200 location ids, each a UUID; an order id must be a UUID", () => {
  const who = { tenantId: randomUUID(), role: "owner" as const };
  const ctx = { identity: () => who } as unknown as SalesContext;
  const ids = Array.from({ length: 200 }, () => randomUUID());
  assert.equal(resolvers.Query._salesLocations(null, { ids }, ctx).length, 200);
  const refused = (run: () => unknown) =>
    assert.throws(run, (e: unknown) => e instanceof AppError && e.code === "BAD_USER_INPUT");
  refused(() => resolvers.Query._salesLocations(null, { ids: [...ids, randomUUID()] }, ctx));
  refused(() => resolvers.Query._salesLocations(null, { ids: ["x"] }, ctx));
  refused(() => resolvers.Query.order(null, { id: "x" }, ctx));
});
