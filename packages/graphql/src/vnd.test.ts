// The Vnd scalar: exact integers to 2^53 − 1 both ways, and every client mistake a BAD_USER_INPUT
// (checked through Yoga with the services' error masking, as a subschema serves it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSchema, createYoga } from "graphql-yoga";
import { AppError, createLogger } from "@lsp/runtime";
import { MAX_VND, VndScalar, maskGraphQLError, parseVnd, serializeVnd } from "./index.js";

const BIG = 5_490_000_000; // the 100-line banquet order of issue 12, above GraphQL Int's 2^31 − 1

test("amounts round-trip exactly up to 2^53 − 1, negative ones too", () => {
  for (const v of [0, 1, -1, 2 ** 31, BIG, MAX_VND, -MAX_VND]) {
    assert.equal(parseVnd(v), v);
    assert.equal(serializeVnd(parseVnd(v)), v);
  }
  assert.equal(parseVnd("5490000000"), BIG);
  assert.equal(parseVnd(String(MAX_VND)), MAX_VND);
  assert.equal(serializeVnd(BigInt(BIG)), BIG);
  // What node-postgres hands over for a BIGINT column when no parser is set.
  assert.equal(serializeVnd("5490000000"), BIG);
});

test("client values that are not exact amounts are BAD_USER_INPUT", () => {
  const bad = [
    1.5,
    MAX_VND + 1,
    2 ** 60,
    -(2 ** 53),
    Number.NaN,
    Infinity,
    "12a",
    " 12",
    "1e9",
    "01",
    "",
    null,
    true,
    {},
    [1],
  ];
  for (const v of bad)
    assert.throws(
      () => parseVnd(v),
      (e: unknown) => e instanceof AppError && e.code === "BAD_USER_INPUT",
      `accepted ${String(v)}`,
    );
});

test("a server value outside the exact range is a server error, never rounded", () => {
  for (const v of [1.5, MAX_VND + 1, "9007199254740993", BigInt(MAX_VND) + 1n, null])
    assert.throws(
      () => serializeVnd(v),
      (e: unknown) => !(e instanceof AppError),
    );
});

const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      scalar Vnd
      type Query {
        echo(amount: Vnd!): Vnd!
        broken: Vnd!
        count(n: Int!): Int!
      }
    `,
    resolvers: {
      Vnd: VndScalar,
      Query: {
        echo: (_: unknown, a: { amount: number }) => a.amount,
        broken: () => 0.5,
        count: (_: unknown, a: { n: number }) => a.n,
      },
    },
  }),
  maskedErrors: { maskError: maskGraphQLError(createLogger("test", "silent")) },
  logging: false,
});

async function run(query: string, variables?: Record<string, unknown>) {
  const res = await yoga.fetch("http://test/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as {
    data?: { echo?: number } | null;
    errors?: { extensions?: { code?: string } }[];
  };
}

test("through GraphQL: literals and variables to 2^53 − 1 come back exactly", async () => {
  assert.deepEqual((await run(`{ echo(amount: ${MAX_VND}) }`)).data, { echo: MAX_VND });
  assert.deepEqual((await run(`query ($a: Vnd!) { echo(amount: $a) }`, { a: BIG })).data, { echo: BIG });
});

test("through GraphQL: junk, fractions and out-of-range amounts are BAD_USER_INPUT", async () => {
  const cases: [string, Record<string, unknown>?][] = [
    [`{ echo(amount: 9007199254740992) }`],
    [`{ echo(amount: 3e9) }`],
    [`{ echo(amount: 1.5) }`],
    [`{ echo(amount: "junk") }`],
    [`query ($a: Vnd!) { echo(amount: $a) }`, { a: 1.5 }],
    [`query ($a: Vnd!) { echo(amount: $a) }`, { a: 2 ** 60 }],
    [`query ($a: Vnd!) { echo(amount: $a) }`, { a: "junk" }],
    [`query ($a: Vnd!) { echo(amount: $a) }`, { a: { n: 1 } }],
    // Before Vnd, \`discountVnd: 3e9\` as a variable overflowed Int: graphql-js's own coercion
    // errors are the client's mistake too, not INTERNAL.
    [`query ($n: Int!) { count(n: $n) }`, { n: 3e9 }],
    [`query ($n: Int!) { count(n: $n) }`, {}],
  ];
  for (const [query, variables] of cases) {
    const body = await run(query, variables);
    assert.equal(body.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", `${query} ${JSON.stringify(body)}`);
  }
  assert.equal((await run(`{ broken }`)).errors?.[0]?.extensions?.code, "INTERNAL");
});
