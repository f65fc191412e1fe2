// Benchmark of the AI path (issue 6), through the edge on a real mesh. Prints:
//  - warm actor calls through the edge: p50/p99 of `location { recommendations }` and of
//    `location { forecast(days: 7) }` (GraphQL → edge → Dapr gRPC actor API → Python actor,
//    answered from the fitted-model cache in actor state);
//  - where a warm call's time goes: the same actor method asked at each layer of the path, each
//    sequentially (GraphQL through the edge; the edge's sidecar actor API, which crosses to ai's
//    sidecar; ai's own sidecar; the ai app's actor route as its sidecar calls it), plus
//    `location(id) { id }` through the edge (the stitched query's auth hop without the AI). The
//    differences between layers are each hop's share;
//  - with the ai process killed: p50/p99/max of the same queries answered degraded by the edge.
// Fit time per location and the retrain of 1,000 locations: services/ai/bench/retrain.py.
// Runs its own mesh on LSP_PORT_BASE (default 5600).
// Usage: npx tsx bench/ai.ts [--calls 300] [--degraded 50] [--layers 300]
// BENCH_CPU_PROFILE=<dir>: V8 CPU profiles of the edge over each warm query's calls, summarised.
import { invokeActor } from "@lsp/dapr";
import { DEMO, edgeClient } from "../test/support/graphql-client.js";
import { DEMO_LOCATION, DEMO_TENANT_ID, publishHistory } from "./ai-history.js";
import { cpuProfilesFromEnv } from "./cpu-profiles.js";
import { fmtMs, numberArg, pct, say, startBenchMesh } from "./support.js";

const calls = numberArg("calls", 300);
const degradedCalls = numberArg("degraded", 50);
const layerCalls = numberArg("layers", 300);
const base = Number(process.env.LSP_PORT_BASE ?? 5600);

const fmt = (ms: number) => fmtMs(ms);

const QUERIES = {
  recommendations: `query ($id: ID!) { location(id: $id) { recommendations { title priority degraded } } }`,
  forecast: `query ($id: ID!) { location(id: $id) { forecast(days: 7) { degraded points { day value } } } }`,
} as const;

interface Answer {
  location: {
    recommendations?: { degraded: boolean }[];
    forecast?: { degraded: boolean };
  } | null;
}

// Measure the AI path, not the edge's per-caller rate limit (600 queries a minute by default).
process.env.EDGE_RATE_LIMIT_MAX = "100000000";
const profiles = cpuProfilesFromEnv(["edge"]);
const mesh = await startBenchMesh(`bench-ai-${base}`, base);
try {
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const degradedOf = (a: Answer) =>
    Boolean(a.location?.forecast?.degraded ?? a.location?.recommendations?.some((r) => r.degraded));
  const time = async (query: string) => {
    const started = performance.now();
    const res = await gql<Answer>(query, { id: DEMO_LOCATION });
    const ms = performance.now() - started;
    if (res.errors || !res.data) throw new Error(JSON.stringify(res.errors));
    return { ms, degraded: degradedOf(res.data) };
  };

  const orders = await publishHistory(mesh.plan.apps.sales.daprHttp, 35, mesh.tokens.sales.daprApiToken);
  say(`published ${orders} orders over 35 days; waiting for the actor to record them and fit…`);
  for (let tries = 0; ; tries++) {
    const f = await time(QUERIES.forecast).catch(() => ({ degraded: true, ms: 0 }));
    const seen = await gql<{ location: { insights: { ordersSeen: number } | null } | null }>(
      `query ($id: ID!) { location(id: $id) { insights { ordersSeen } } }`,
      { id: DEMO_LOCATION },
    );
    if (!f.degraded && seen.data?.location?.insights?.ordersSeen === orders) break;
    if (tries > 600) throw new Error("the actor never answered from a model");
    await new Promise((r) => setTimeout(r, 500));
  }

  const rows: string[] = [];
  const profileSummaries: string[] = [];
  for (const [name, query] of Object.entries(QUERIES)) {
    for (let i = 0; i < 20; i++) await time(query); // warm
    const ms: number[] = [];
    let degraded = 0;
    profiles?.start(mesh);
    for (let i = 0; i < calls; i++) {
      const t = await time(query);
      ms.push(t.ms);
      if (t.degraded) degraded++;
    }
    if (profiles) profileSummaries.push(...(await profiles.stop(mesh, `warm ${name}`)));
    rows.push(
      `warm ${name} through the edge (${calls} sequential): p50 ${fmt(pct(ms, 50))}, p99 ${fmt(pct(ms, 99))}` +
        (degraded ? ` (${degraded} answered degraded)` : ""),
    );
  }

  // The breakdown: the edge's actor arguments (resolvers in services/edge/src/ai-subschema.ts).
  const { edge, ai } = mesh.plan.apps;
  const sidecarOf = (app: "edge" | "ai") => ({
    DAPR_HTTP_PORT: mesh.plan.apps[app].daprHttp,
    DAPR_GRPC_PORT: mesh.plan.apps[app].daprGrpc,
    DAPR_API_TOKEN: mesh.tokens[app].daprApiToken,
  });
  const actorArgs = {
    Forecast: [{ days: 7, tenantId: DEMO_TENANT_ID }],
    Recommendations: [{ tenantId: DEMO_TENANT_ID }],
  } as const;
  const layers: [string, (method: keyof typeof actorArgs) => Promise<unknown>][] = [
    ["GraphQL through the edge", (m) => time(m === "Forecast" ? QUERIES.forecast : QUERIES.recommendations)],
    [
      "edge's sidecar → ai's sidecar → app",
      (m) => invokeActor(sidecarOf("edge"), "LocationInsights", DEMO_LOCATION, m, actorArgs[m]),
    ],
    [
      "ai's sidecar → app",
      (m) => invokeActor(sidecarOf("ai"), "LocationInsights", DEMO_LOCATION, m, actorArgs[m]),
    ],
    [
      "ai app's actor route (as its sidecar calls it)",
      async (m) => {
        const res = await fetch(
          `http://127.0.0.1:${ai.app}/actors/LocationInsights/${DEMO_LOCATION}/method/${m}`,
          {
            method: "PUT",
            headers: { "content-type": "application/json", "dapr-api-token": mesh.tokens.ai.appApiToken },
            body: JSON.stringify(actorArgs[m]),
          },
        );
        if (!res.ok) throw new Error(`ai app: ${res.status} ${await res.text()}`);
        return res.json();
      },
    ],
  ];
  const sample = async (call: () => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await call();
    const ms: number[] = [];
    for (let i = 0; i < layerCalls; i++) {
      const started = performance.now();
      await call();
      ms.push(performance.now() - started);
    }
    return `p50 ${fmt(pct(ms, 50))}, p99 ${fmt(pct(ms, 99))}`;
  };
  if (layerCalls > 0) {
    rows.push(
      `where a warm call's time goes (${layerCalls} sequential calls per layer, edge app ${edge.app}):`,
    );
    rows.push(
      `  location(id) { id } through the edge (auth hop, no AI): ${await sample(() =>
        gql(`query ($id: ID!) { location(id: $id) { id } }`, { id: DEMO_LOCATION }),
      )}`,
    );
    for (const method of ["Forecast", "Recommendations"] as const)
      for (const [layer, call] of layers)
        rows.push(`  ${method}, ${layer}: ${await sample(() => call(method))}`);
  }

  await mesh.killApp("ai");
  for (const [name, query] of Object.entries(QUERIES)) {
    const ms: number[] = [];
    let notDegraded = 0;
    for (let i = 0; i < degradedCalls; i++) {
      const t = await time(query);
      ms.push(t.ms);
      if (!t.degraded) notDegraded++;
    }
    rows.push(
      `ai killed, ${name} answered degraded (${degradedCalls} sequential): p50 ${fmt(pct(ms, 50))}, ` +
        `p99 ${fmt(pct(ms, 99))}, max ${fmt(Math.max(...ms))}` +
        (notDegraded ? ` (${notDegraded} NOT flagged degraded)` : ""),
    );
  }
  const started = performance.now();
  await mesh.restartApp("ai");
  let back = false;
  while (!back) back = !(await time(QUERIES.forecast)).degraded;
  rows.push(`ai restarted: model answers again after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${[...rows, ...profileSummaries].join("\n")}\n`);
} finally {
  await mesh.stop();
}
