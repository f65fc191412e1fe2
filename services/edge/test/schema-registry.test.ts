import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { buildSchema, type GraphQLSchema } from "graphql";
import { createLogger } from "@lsp/runtime";
import { schemaRegistry, subschemaApps } from "../src/schema-registry.js";

const log = createLogger("schema-registry-test", "silent");

/** Services that answer (app → SDL) or are down (absent); changed by each test as it goes. */
function services(initial: Record<string, string>) {
  const up = new Map(Object.entries(initial));
  const asked: string[] = [];
  return {
    up,
    asked,
    fetchSdl: async (app: string) => {
      asked.push(app);
      const sdl = up.get(app);
      if (sdl === undefined) throw new Error(`${app} is down`);
      return sdl;
    },
  };
}

/** A fake stitcher: one Query field per app, named after it; an SDL "broken" does not stitch. */
function build(sdls: ReadonlyMap<string, string>): GraphQLSchema {
  if ([...sdls.values()].includes("broken")) throw new Error("Unknown type Brokenness");
  const fields = [...sdls].map(([app, sdl]) => `${app}_${sdl}: Int`);
  return buildSchema(`type Query { edge: Int ${fields.join(" ")} }`);
}

const fieldsOf = (schema: GraphQLSchema | undefined) =>
  Object.keys(schema?.getQueryType()?.getFields() ?? {}).sort();

/** Lets every settled promise's continuation run, with the timers still under the test's control. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function registry(t: TestContext, up: ReturnType<typeof services>, required: string[] = []) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const r = schemaRegistry({
    apps: ["auth", "sales", "dashboard"],
    required,
    fetchSdl: up.fetchSdl,
    build,
    log,
    pollMs: 30_000,
    retryMs: 500,
  });
  t.after(() => r.stop());
  return r;
}

async function tick(t: TestContext, ms: number) {
  t.mock.timers.tick(ms);
  await settle();
}

test("stitches whatever answers at start and adds the others when they come", async (t) => {
  const up = services({ auth: "v1" });
  const r = registry(t, up);
  await r.start();
  assert.deepEqual(fieldsOf(r.schema()), ["auth_v1", "edge"]);
  assert.deepEqual(r.stitched(), ["auth"]);

  up.up.set("sales", "v1");
  await tick(t, 500);
  assert.deepEqual(fieldsOf(r.schema()), ["auth_v1", "edge", "sales_v1"]);

  up.up.set("dashboard", "v1");
  await tick(t, 500);
  assert.deepEqual(r.stitched(), ["auth", "sales", "dashboard"]);
});

test("a first load where nothing answers serves the edge's own schema and retries soon", async (t) => {
  const up = services({});
  const r = registry(t, up);
  await r.start();
  assert.deepEqual(fieldsOf(r.schema()), ["edge"]);
  assert.match(r.lastError() ?? "", /auth is down/);
  up.asked.length = 0;
  await tick(t, 499);
  assert.deepEqual(up.asked, [], "asked again before the retry delay");
  await tick(t, 1);
  assert.deepEqual(up.asked, ["auth", "sales", "dashboard"]);
  // Nothing new: the delay doubles (1 s, 2 s, then 4 s at most) …
  for (const delay of [1000, 2000, 4000, 4000]) {
    up.asked.length = 0;
    await tick(t, delay - 1);
    assert.deepEqual(up.asked, [], `asked again before ${delay} ms`);
    await tick(t, 1);
    assert.equal(up.asked.length, 3, `asked again after ${delay} ms`);
  }
  // … and starts over when a service comes.
  up.up.set("sales", "v1");
  await tick(t, 4000);
  assert.deepEqual(r.stitched(), ["sales"]);
  up.asked.length = 0;
  await tick(t, 500);
  assert.equal(up.asked.length, 3);
});

test("readiness waits for every required subschema, and only for those", async (t) => {
  const up = services({ auth: "v1" });
  const r = registry(t, up, ["auth", "sales"]);
  assert.throws(() => r.checkReady(), /lacks auth, sales/);
  await r.start();
  assert.throws(() => r.checkReady(), /lacks sales \(.*sales is down/);
  up.up.set("sales", "v1");
  await tick(t, 500);
  r.checkReady(); // dashboard is still missing but not required
});

test("once all are in, polls at the slow interval and swaps a changed SDL in", async (t) => {
  const up = services({ auth: "v1", sales: "v1", dashboard: "v1" });
  const r = registry(t, up);
  await r.start();
  const first = r.schema();
  up.asked.length = 0;
  await tick(t, 29_999);
  assert.deepEqual(up.asked, []);
  await tick(t, 1);
  assert.equal(r.schema(), first, "the same SDLs are not stitched again");

  up.up.set("sales", "v2");
  await tick(t, 30_000);
  assert.deepEqual(fieldsOf(r.schema()), ["auth_v1", "dashboard_v1", "edge", "sales_v2"]);
});

test("a service that goes down keeps its last subschema (its fields answer UNAVAILABLE)", async (t) => {
  const up = services({ auth: "v1", sales: "v1", dashboard: "v1" });
  const r = registry(t, up);
  await r.start();
  const before = r.schema();
  up.up.delete("sales");
  await tick(t, 30_000);
  assert.equal(r.schema(), before);
  assert.deepEqual(r.stitched(), ["auth", "sales", "dashboard"]);
  assert.match(r.lastError() ?? "", /sales is down/);
  // Known, even if down: the slow poll goes on rather than the fast retry.
  up.asked.length = 0;
  await tick(t, 500);
  assert.deepEqual(up.asked, []);
});

test("a reload whose SDLs do not stitch keeps the last good schema and reports why", async (t) => {
  const up = services({ auth: "v1", sales: "v1", dashboard: "v1" });
  const r = registry(t, up);
  await r.start();
  const good = r.schema();
  up.up.set("dashboard", "broken");
  await tick(t, 30_000);
  assert.equal(r.schema(), good);
  assert.match(r.lastError() ?? "", /do not stitch: Error: Unknown type Brokenness/);
  up.up.set("dashboard", "v2");
  await tick(t, 30_000);
  assert.deepEqual(fieldsOf(r.schema()), ["auth_v1", "dashboard_v2", "edge", "sales_v1"]);
  assert.equal(r.lastError(), undefined);
});

test("a first load that does not stitch leaves no schema and is retried soon", async (t) => {
  const up = services({ auth: "broken" });
  const r = registry(t, up);
  await r.start();
  assert.equal(r.schema(), undefined);
  assert.throws(() => r.checkReady(), /lacks everything/);
  up.up.set("auth", "v1");
  await tick(t, 500);
  assert.deepEqual(fieldsOf(r.schema()), ["auth_v1", "edge"]);
});

test("the subschemas are the services the edge may call at POST /graphql", () => {
  const allowed = JSON.stringify({
    auth: ["POST /graphql", "POST /api/v1/auth/otp/request"],
    payments: ["POST /v1/webhooks/*", "POST /graphql"],
    sales: ["GET /graphql"],
  });
  assert.deepEqual(subschemaApps(allowed), ["auth", "payments"]);
  assert.throws(() => subschemaApps(undefined), /LSP_ALLOWED_INVOCATIONS is not set/);
});
