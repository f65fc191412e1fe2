// The edge's query-shape limits and per-caller rate limits (src/protection.ts) on a real Yoga
// with a small schema: each refusal is a typed error, and a caller's budget is its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSchema, createYoga } from "graphql-yoga";
import { ProtectionConfig, protectionPlugins } from "../src/protection.js";

const TENANT = "11111111-1111-4111-8111-111111111111";

interface Answer {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

function edgeLike(overrides: Record<string, string> = {}, production = false) {
  const config = ProtectionConfig.parse({
    EDGE_MAX_DEPTH: "4",
    EDGE_MAX_TOKENS: "200",
    EDGE_MAX_ALIASES: "3",
    EDGE_MAX_DIRECTIVES: "3",
    EDGE_MAX_COST: "500",
    EDGE_RATE_LIMIT_MAX: "3",
    EDGE_RATE_LIMIT_WINDOW: "1m",
    ...overrides,
  });
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: `
        type Node { id: ID! name: String! child: Node children: [Node!]! }
        type Query { node: Node! nodes: [Node!]! }
        type Mutation { touch: Boolean! }`,
      resolvers: {
        Query: { node: () => ({ id: "1", name: "a" }), nodes: () => [] },
        Node: { child: () => ({ id: "2", name: "b" }), children: () => [] },
        Mutation: { touch: () => true },
      },
    }),
    // What the edge's context carries: the verified caller, here named by a test header.
    context: ({ request }: { request: Request }) => ({
      identity: () => {
        const user = request.headers.get("x-test-user");
        if (!user) throw new Error("anonymous");
        return { tenantId: TENANT, userId: user, role: "staff" };
      },
    }),
    plugins: protectionPlugins(config, production),
    maskedErrors: false,
    logging: false,
  });
  return async (query: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await yoga.fetch("http://edge.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as Answer;
  };
}

const codeOf = (a: Answer) => a.errors?.[0]?.extensions?.code;

test("query shape: depth, aliases, directives, tokens and cost over their limits are refused, typed", async () => {
  const ask = edgeLike({ EDGE_RATE_LIMIT_MAX: "1000" });
  assert.equal(codeOf(await ask("{ node { child { id } } }")), undefined, "within every limit");
  assert.equal(
    codeOf(await ask("{ node { child { child { child { child { id } } } } } }")),
    "QUERY_TOO_DEEP",
  );
  assert.equal(
    codeOf(await ask("{ a: node { id } b: node { id } c: node { id } d: node { id } }")),
    "TOO_MANY_ALIASES",
  );
  assert.equal(
    codeOf(
      await ask(
        "{ node { id @skip(if: false) @skip(if: false) name @include(if: true) @include(if: true) } }",
      ),
    ),
    "TOO_MANY_DIRECTIVES",
  );
  assert.equal(codeOf(await ask(`{ node { ${"id ".repeat(250)}} }`)), "QUERY_TOO_LARGE");
  const costly = edgeLike({ EDGE_RATE_LIMIT_MAX: "1000", EDGE_MAX_COST: "5" });
  assert.equal(codeOf(await costly("{ nodes { children { children { id name } } } }")), "QUERY_TOO_COSTLY");
  // Introspection counts too: it is the only way to nest this deep here.
  assert.equal(
    codeOf(await ask("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }")),
    "QUERY_TOO_DEEP",
  );
});

test("rate limits: each caller (tenant and user, else the address) has its own budget of root fields", async () => {
  const ask = edgeLike();
  const asA = { "x-test-user": "user-a" };
  for (let i = 0; i < 3; i++)
    assert.equal(codeOf(await ask("{ node { id } }", asA)), undefined, `A's call ${i + 1}`);
  assert.equal(codeOf(await ask("{ node { id } }", asA)), "RATE_LIMITED", "A's fourth call in the window");
  assert.equal(codeOf(await ask("mutation { touch }", asA)), undefined, "mutations count apart from queries");
  assert.equal(codeOf(await ask("{ node { id } }", { "x-test-user": "user-b" })), undefined, "B is not A");
  // Anonymous callers count by address.
  for (let i = 0; i < 3; i++) await ask("{ node { id } }", { "x-forwarded-for": "203.0.113.7" });
  assert.equal(codeOf(await ask("{ node { id } }", { "x-forwarded-for": "203.0.113.7" })), "RATE_LIMITED");
  assert.equal(codeOf(await ask("{ node { id } }", { "x-forwarded-for": "203.0.113.8" })), undefined);
});

test("field suggestions are given in development and never in production (they leak the schema)", async () => {
  const dev = await edgeLike({ EDGE_RATE_LIMIT_MAX: "1000" })("{ node { nam } }");
  assert.match(dev.errors?.[0]?.message ?? "", /Did you mean/);
  const prod = await edgeLike({ EDGE_RATE_LIMIT_MAX: "1000" }, true)("{ node { nam } }");
  assert.ok(prod.errors?.length, "still refused");
  assert.doesNotMatch(prod.errors?.[0]?.message ?? "", /Did you mean/);
});

test("bad settings are refused at start-up, naming the setting", () => {
  const bad = ProtectionConfig.safeParse({ EDGE_MAX_DEPTH: "0" });
  assert.equal(bad.success, false);
  assert.deepEqual(
    bad.error?.issues.map((i) => i.path.join(".")),
    ["EDGE_MAX_DEPTH"],
  );
});
