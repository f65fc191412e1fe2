import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createSchema, createYoga } from "graphql-yoga";
import { AppError, createLogger } from "@lsp/runtime";
import type { Caller, Identity } from "@lsp/identity";
import {
  graphqlFront,
  parseByteLimit,
  useExecutionOutcome,
  useFrontParams,
  type FrontContext,
} from "../src/graphql-front.js";
import type { CallerCredentials } from "../src/identity.js";
import {
  ResponseCache,
  cacheKey,
  etagMatches,
  etagOf,
  idsOf,
  reusable,
  type CacheLookup,
} from "../src/response-cache.js";

const TENANT = "11111111-1111-4111-8111-111111111111";
const LOC_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const LOC_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const owner: Identity = { tenantId: TENANT, userId: "0wner000-0000-4000-8000-000000000000", role: "owner" };
const manager: Identity = {
  tenantId: TENANT,
  userId: "3a3a3a3a-0000-4000-8000-000000000000",
  role: "manager",
  locationIds: [LOC_A],
};
const config = {
  EDGE_RESPONSE_CACHE_TTL_MS: 60_000,
  EDGE_RESPONSE_CACHE_MAX_ENTRIES: 100,
  EDGE_RESPONSE_CACHE_MAX_BYTES: 1 << 20,
};

const lookup = (over: Partial<CacheLookup> = {}): CacheLookup => ({
  identity: owner,
  document: { text: "{ a }" },
  operationName: undefined,
  variables: undefined,
  accept: "application/json",
  ...over,
});

test("the key changes with every part: caller, document, operation, variables, Accept", () => {
  const base = cacheKey(lookup());
  assert.equal(cacheKey(lookup()), base, "the same request, the same key");
  const variants = [
    lookup({ identity: manager }),
    lookup({ identity: { ...owner, role: "staff" } }),
    lookup({ identity: { ...owner, tenantId: "22222222-2222-4222-8222-222222222222" } }),
    lookup({ identity: { ...owner, locationIds: [LOC_A] } }),
    lookup({ document: { text: "{ b }" } }),
    lookup({ document: { hash: "{ a }" } }),
    lookup({ operationName: "A" }),
    lookup({ variables: { id: LOC_A } }),
    lookup({ accept: "application/graphql-response+json" }),
  ];
  const keys = new Set([base, ...variants.map(cacheKey)]);
  assert.equal(keys.size, variants.length + 1);
  // Allowed locations are a set: their order does not matter.
  assert.equal(
    cacheKey(lookup({ identity: { ...owner, locationIds: [LOC_A, LOC_B] } })),
    cacheKey(lookup({ identity: { ...owner, locationIds: [LOC_B, LOC_A] } })),
  );
});

test("ETags: strong, of the bytes; If-None-Match matches by weak comparison, lists and *", () => {
  const tag = etagOf('{"data":{"a":1}}');
  assert.match(tag, /^"[A-Za-z0-9_-]+"$/);
  assert.notEqual(etagOf('{"data":{"a":2}}'), tag);
  assert.ok(etagMatches(tag, tag));
  assert.ok(etagMatches(`W/${tag}`, tag));
  assert.ok(etagMatches(`"x", ${tag}`, tag));
  assert.ok(etagMatches("*", tag));
  assert.ok(!etagMatches('"x"', tag));
  assert.ok(!etagMatches(undefined, tag));
});

test("ids: UUIDs of the request and of the answer, case-folded", () => {
  const ids = idsOf(
    `{ location(id: "${LOC_A.toUpperCase()}") { todayOrders } }`,
    `{"data":{"x":"${LOC_B}"}}`,
  );
  assert.deepEqual([...ids].sort(), [LOC_A, LOC_B]);
});

test("only error-free, non-degraded query answers are reusable", () => {
  assert.ok(reusable({ operation: "query", errors: false }, '{"data":{}}'));
  assert.ok(!reusable({ operation: "query", errors: true }, '{"data":{}}'));
  assert.ok(!reusable({ operation: "mutation", errors: false }, '{"data":{}}'));
  assert.ok(!reusable({}, '{"data":{}}'), "never executed (refused before execution)");
  assert.ok(!reusable({ operation: "query", errors: false }, '{"data":{"r":[{"degraded":true}]}}'));
});

test("dropIds removes exactly the answers that depend on an id", () => {
  const cache = new ResponseCache(config);
  const answer = (ids: string[]) => ({
    contentType: "application/json",
    body: "{}",
    etag: '"e"',
    ids: new Set(ids),
  });
  cache.set("a", answer([LOC_A]), cache.begin());
  cache.set("b", answer([LOC_B]), cache.begin());
  cache.set("ab", answer([LOC_A, LOC_B]), cache.begin());
  assert.equal(cache.dropIds([LOC_A.toUpperCase()]), 2);
  assert.equal(cache.get("a"), undefined);
  assert.equal(cache.get("ab"), undefined);
  assert.ok(cache.get("b"));
  assert.equal(cache.dropIds([]), 0);
});

test("an answer computed before a drop of one of its ids is not stored after it", () => {
  const cache = new ResponseCache({ ...config, EDGE_RESPONSE_CACHE_MAX_ENTRIES: 2 });
  const answer = (ids: string[]) => ({
    contentType: "application/json",
    body: "{}",
    etag: '"e"',
    ids: new Set(ids),
  });
  const mark = cache.begin();
  cache.dropIds([LOC_A]); // the event arrives while the query is executing
  assert.equal(cache.set("a", answer([LOC_A]), mark), false, "A's answer may predate the event");
  assert.equal(cache.get("a"), undefined);
  assert.equal(cache.set("b", answer([LOC_B]), mark), true, "B was not dropped: stored");
  assert.equal(cache.set("a", answer([LOC_A]), cache.begin()), true, "a fresh execution is stored");
  // More ids dropped than it remembers: marks older than the forgotten drops are refused.
  const old = cache.begin();
  cache.dropIds(["cccccccc-cccc-4ccc-8ccc-cccccccccccc"]);
  cache.dropIds(["dddddddd-dddd-4ddd-8ddd-dddddddddddd"]);
  cache.dropIds(["eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"]);
  assert.equal(cache.set("b2", answer([LOC_B]), old), false, "cannot tell: not stored");
  assert.equal(cache.set("b2", answer([LOC_B]), cache.begin()), true);
});

test("the cache is bounded by entries and by bytes", () => {
  const cache = new ResponseCache({
    ...config,
    EDGE_RESPONSE_CACHE_MAX_ENTRIES: 3,
    EDGE_RESPONSE_CACHE_MAX_BYTES: 100,
  });
  const answer = (body: string) => ({
    contentType: "application/json",
    body,
    etag: etagOf(body),
    ids: new Set<string>(),
  });
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, answer("x"), cache.begin());
  assert.equal(cache.size, 3);
  cache.set("big", answer("y".repeat(99)), cache.begin());
  assert.equal(cache.size, 2, "99 bytes and one more fit in 100, not two more");
  cache.set("too-big", answer("z".repeat(200)), cache.begin());
  assert.equal(cache.get("too-big"), undefined, "larger than the whole budget: not kept");
});

test("BODY_LIMIT reads as Express reads it", () => {
  assert.equal(parseByteLimit("256kb"), 256 * 1024);
  assert.equal(parseByteLimit("1mb"), 1024 * 1024);
  assert.equal(parseByteLimit("100"), 100);
  assert.throws(() => parseByteLimit("lots"));
});

// ---- the front, end to end over HTTP, with a real Yoga and a fake authenticator ----------------

async function startFront(opts: { ttlMs?: number; afterRead?: (id: string) => void } = {}) {
  const calls = { location: 0, mutations: 0 };
  const figures = new Map<string, number>([
    [LOC_A, 1],
    [LOC_B, 2],
  ]);
  const yoga = createYoga<object, { edgeCaller: Caller }>({
    schema: createSchema<{ edgeCaller: Caller }>({
      typeDefs: `
        type Location { id: ID! todayOrders: Int! degraded: Boolean! }
        type Query { location(id: ID!): Location, me: String!, boom: Int }
        type Mutation { addOrder(locationId: ID!): Int! }`,
      resolvers: {
        Query: {
          location: (_: unknown, { id }: { id: string }) => {
            calls.location++;
            const todayOrders = figures.get(id) ?? 0;
            opts.afterRead?.(id);
            return { id, todayOrders, degraded: false };
          },
          me: (_: unknown, __: unknown, ctx: { edgeCaller: Caller }) => ctx.edgeCaller.identity().role ?? "",
          boom: () => {
            throw new AppError("UNAVAILABLE", "down");
          },
        },
        Mutation: {
          addOrder: (_: unknown, { locationId }: { locationId: string }) => {
            calls.mutations++;
            figures.set(locationId, (figures.get(locationId) ?? 0) + 1);
            return figures.get(locationId)!;
          },
        },
      },
    }),
    plugins: [useFrontParams(), useExecutionOutcome()],
    logging: false,
  });
  const tokens: Record<string, Identity> = { "Bearer owner": owner, "Bearer manager": manager };
  const callerOf = async ({ authorization }: CallerCredentials): Promise<Caller> => {
    const who = authorization ? tokens[authorization] : undefined;
    const failure = new AppError(authorization ? "TOKEN_INVALID" : "UNAUTHENTICATED", "no");
    return who
      ? { identity: () => who, forward: () => ({ authorization: authorization! }) }
      : {
          identity: () => {
            throw failure;
          },
          forward: () => {
            throw failure;
          },
        };
  };
  const cache =
    (opts.ttlMs ?? 60_000) > 0
      ? new ResponseCache({ ...config, EDGE_RESPONSE_CACHE_TTL_MS: opts.ttlMs ?? 60_000 })
      : undefined;
  let fallbacks = 0;
  const front = graphqlFront({
    path: "/graphql",
    bodyLimitBytes: 10_000,
    cache,
    callerOf,
    execute: (url, init, context: FrontContext) => yoga.fetch(url, init, context),
    log: createLogger("edge-test"),
  });
  const server: Server = createServer((req, res) =>
    front(req, res, () => {
      fallbacks++;
      res.writeHead(418).end();
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  // node:http rather than fetch: fetch turns a request with If-None-Match into a no-cache one.
  const ask = (
    query: string | undefined,
    headers: Record<string, string> = {},
    variables?: unknown,
    rawBody?: string,
  ) =>
    new Promise<{
      status: number;
      etag: string | null;
      body: { data?: Record<string, unknown>; errors?: unknown[] } | undefined;
    }>((resolve, reject) => {
      const body = rawBody ?? JSON.stringify({ query, variables });
      const req = request(
        url,
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            authorization: "Bearer owner",
            ...headers,
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              etag: (res.headers.etag as string | undefined) ?? null,
              body: text
                ? (JSON.parse(text) as { data?: Record<string, unknown>; errors?: unknown[] })
                : undefined,
            }),
          );
        },
      );
      req.once("error", reject);
      req.end(body);
    });
  return {
    url,
    ask,
    calls,
    figures,
    cache,
    fallbacks: () => fallbacks,
    close: () => new Promise((r) => server.close(r)),
  };
}

const byA = `{ location(id: "${LOC_A}") { todayOrders } }`;

test("front: a repeat by the same caller is a hit; another caller, no-cache or a new document executes", async () => {
  const f = await startFront();
  try {
    const first = await f.ask(byA);
    assert.deepEqual(first.body?.data, { location: { todayOrders: 1 } });
    await f.ask(byA);
    assert.equal(f.calls.location, 1, "the repeat is served from the cache");
    await f.ask(byA, { authorization: "Bearer manager" });
    assert.equal(f.calls.location, 2, "another caller never gets the owner's answer");
    await f.ask(byA, { "cache-control": "no-cache" });
    assert.equal(f.calls.location, 3, "no-cache executes");
    await f.ask(`query ($id: ID!) { location(id: $id) { todayOrders } }`, {}, { id: LOC_B });
    await f.ask(`query ($id: ID!) { location(id: $id) { todayOrders } }`, {}, { id: LOC_A });
    assert.equal(f.calls.location, 5, "other variables, other answers");
    const mine = await f.ask("{ me }", { authorization: "Bearer manager" });
    assert.deepEqual(mine.body?.data, { me: "manager" });
  } finally {
    await f.close();
  }
});

test("front: unverified callers, errors and mutations are never cached", async () => {
  const f = await startFront();
  try {
    for (const authorization of ["Bearer forged", ""]) {
      const before = f.calls.location;
      await f.ask(byA, { authorization });
      await f.ask(byA, { authorization });
      assert.equal(
        f.calls.location - before,
        2,
        `unverified (${authorization || "no token"}) executes every time`,
      );
    }
    const failed = await f.ask("{ boom }");
    assert.ok(failed.body?.errors);
    assert.equal(failed.etag, null, "an answer with errors carries no ETag: it is not cached");
    assert.equal(f.cache!.size, 0);
    await f.ask(`mutation { addOrder(locationId: "${LOC_B}") }`);
    await f.ask(`mutation { addOrder(locationId: "${LOC_B}") }`);
    assert.equal(f.calls.mutations, 2);
  } finally {
    await f.close();
  }
});

test("front: a mutation or an event about a location drops the answers that show it, and only those", async () => {
  const f = await startFront();
  try {
    const byB = `{ location(id: "${LOC_B}") { todayOrders } }`;
    await f.ask(byA);
    await f.ask(byB);
    assert.equal(f.calls.location, 2);
    await f.ask(`mutation { addOrder(locationId: "${LOC_A}") }`);
    const after = await f.ask(byA);
    assert.deepEqual(after.body?.data, { location: { todayOrders: 2 } }, "the mutation dropped A's answer");
    await f.ask(byB);
    assert.equal(f.calls.location, 3, "B's answer is still served from the cache");
    f.cache!.dropIds([LOC_B]); // what dashboard.updated does
    await f.ask(byB);
    assert.equal(f.calls.location, 4);
  } finally {
    await f.close();
  }
});

test("front: an event that lands while a query executes keeps that query's answer out of the cache", async () => {
  let changeOnce = true;
  const f = await startFront({
    afterRead: (id) => {
      if (!changeOnce) return;
      changeOnce = false;
      // A new order is applied and its dashboard.updated handled after the query read A.
      f.figures.set(id, (f.figures.get(id) ?? 0) + 1);
      f.cache!.dropIds([id]);
    },
  });
  try {
    const stale = await f.ask(byA);
    assert.deepEqual(stale.body?.data, { location: { todayOrders: 1 } }, "read before the change");
    const next = await f.ask(byA);
    assert.deepEqual(next.body?.data, { location: { todayOrders: 2 } }, "not served the stale answer");
    assert.equal(f.calls.location, 2);
    await f.ask(byA);
    assert.equal(f.calls.location, 2, "the fresh answer is cached");
  } finally {
    await f.close();
  }
});

test("front: ETag on every cacheable answer, If-None-Match → 304 without a body, for hits and executions", async () => {
  const f = await startFront();
  try {
    const first = await f.ask(byA);
    assert.ok(first.etag);
    const again = await f.ask(byA, { "if-none-match": first.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body, undefined);
    const executed = await f.ask(byA, { "if-none-match": first.etag, "cache-control": "no-cache" });
    assert.equal(executed.status, 304, "executed, unchanged: still 304");
    assert.equal(f.calls.location, 2);
    await f.ask(`mutation { addOrder(locationId: "${LOC_A}") }`);
    const changed = await f.ask(byA, { "if-none-match": first.etag });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.etag, first.etag);
    // Another caller with the owner's ETag gets its own answer's validation, never the owner's.
    const other = await f.ask(`{ me }`, { authorization: "Bearer manager", "if-none-match": first.etag });
    assert.deepEqual(other.body?.data, { me: "manager" });
  } finally {
    await f.close();
  }
});

test("front: anything but a sized JSON POST goes the ordinary way; TTL 0 caches nothing", async () => {
  const f = await startFront({ ttlMs: 0 });
  try {
    await fetch(`${f.url}?query=%7B__typename%7D`);
    await fetch(f.url, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    await fetch(f.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(20_000),
    });
    await fetch(f.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: byA }),
    });
    assert.equal(f.fallbacks(), 4);
    await f.ask(byA);
    const second = await f.ask(byA);
    assert.equal(f.calls.location, 2);
    assert.equal(second.etag, null);
    const junk = await fetch(f.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    assert.equal(junk.status, 400, "Yoga answers a body that is not JSON");
  } finally {
    await f.close();
  }
});

test("front: a body parsed by the front still gets Yoga's refusals of bad parameters", async () => {
  const f = await startFront({ ttlMs: 0 });
  try {
    const bodies = ["42", "null", "[]", '{"variables":{}}', '{"query":1}', `{"query":"{ me }","nope":1}`];
    for (const body of bodies) {
      const answer = await f.ask(undefined, {}, undefined, body);
      assert.ok(answer.status === 400 || answer.status === 200, `${body}: ${answer.status}`);
      assert.ok(answer.body?.errors?.length, `${body}: refused, with the reason`);
      assert.equal(answer.body?.data, undefined, body);
    }
    assert.equal(f.calls.location, 0);
    const ok = await f.ask(
      undefined,
      {},
      undefined,
      JSON.stringify({ query: "query Me { me }", operationName: "Me" }),
    );
    assert.deepEqual(ok.body, { data: { me: "owner" } });
  } finally {
    await f.close();
  }
});

test("front: a client's odd Host is the client's business, never a 500", async () => {
  const f = await startFront();
  try {
    const odd = await f.ask(byA, { host: "not a host/?#" });
    assert.equal(odd.status, 200);
    assert.deepEqual(odd.body?.data, { location: { todayOrders: 1 } });
  } finally {
    await f.close();
  }
});
