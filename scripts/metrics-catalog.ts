// Writes scripts/metrics-catalog.txt: every metric name the local mesh actually exports, read from
// the /metrics endpoints of every app, every daprd sidecar, placement and the scheduler after
// driving the traffic that makes them appear (Dapr and labelled prom-client metrics have no
// sample before their first event): logins, orders created, paid and voided, a MoMo webhook
// (good and badly signed) while a dashboardUpdates subscription is open, AI questions with the ai
// app up and killed. scripts/metrics-catalog.test.ts checks every metric the Grafana dashboards
// and the alert rules query against this list. Refresh after adding a metric:
//   LSP_PORT_BASE=5800 npx tsx scripts/metrics-catalog.ts
// With pub/sub on Kafka the consumer-lag series are kafka-exporter's (scripts/mesh/kafka-lag.ts);
// they go to scripts/metrics-catalog-kafka.txt, from a Kafka run that drives one order through:
//   LSP_PUBSUB=kafka LSP_PORT_BASE=5800 npx tsx scripts/metrics-catalog.ts
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { REPO, startMesh } from "./mesh/mesh.js";
import { APPS } from "./mesh/ports.js";
import {
  CREATE_ORDER,
  DEMO,
  edgeAuthHeaders,
  edgeClient,
  eventually,
} from "../test/support/graphql-client.js";
import { scrapeMetrics } from "../test/support/metrics.js";
import { openMomoOrder, postMomoIpn } from "../test/support/momo.js";

export const CATALOG = path.join(REPO, "scripts", "metrics-catalog.txt");
export const KAFKA_CATALOG = path.join(REPO, "scripts", "metrics-catalog-kafka.txt");
const onKafka = process.env.LSP_PUBSUB === "kafka";
const DAPR_VERSION = "1.18.1"; // tools/dapr/go.mod

/** Where each metric name was seen, and its label names. */
const where = new Map<string, Set<string>>();
const labels = new Map<string, Set<string>>();
const add = (m: Map<string, Set<string>>, key: string, values: string[]) => {
  const set = m.get(key) ?? new Set<string>();
  for (const v of values) set.add(v);
  m.set(key, set);
};

const say = (m: string) => process.stderr.write(`[metrics-catalog] ${m}\n`);
const base = Number(process.env.LSP_PORT_BASE ?? 4000);
const mesh = await startMesh({
  portBase: base,
  name: "metrics-catalog",
  fresh: true,
  demoData: true,
  logLevel: "warn",
  onProgress: say,
});
/** Every app, every sidecar, placement, the scheduler and the streams' consumer lag. */
const sources: [string, string][] = [
  ...APPS.map((a): [string, string] => [a, `http://127.0.0.1:${mesh.plan.apps[a].ops}/metrics`]),
  ...APPS.map((a): [string, string] => [
    "daprd",
    `http://127.0.0.1:${mesh.plan.apps[a].daprMetrics}/metrics`,
  ]),
  ["placement", `http://127.0.0.1:${mesh.plan.placement.metrics}/metrics`],
  ["scheduler", `http://127.0.0.1:${mesh.plan.scheduler.metrics}/metrics`],
  // The Redis streams' consumer lag, as the chart's redis_exporter serves it (stream-metrics.ts).
  ["stream-metrics", `http://127.0.0.1:${mesh.plan.streamMetrics}/metrics`],
];
async function collect(): Promise<void> {
  for (const [source, url] of sources)
    for (const s of await scrapeMetrics(url)) {
      add(where, s.name, [source]);
      add(labels, s.name, Object.keys(s.labels));
    }
}

/** Writes `file`: the names seen, where, and their label names. */
function writeCatalog(file: string, header: string): number {
  const lines = [...where.keys()].sort().map((name) => {
    const list = (m: Map<string, Set<string>>) => [...(m.get(name) ?? [])].sort().join(",");
    return `${name}\t${list(where)}\t${list(labels)}`;
  });
  const command = `${onKafka ? "LSP_PUBSUB=kafka " : ""}npx tsx scripts/metrics-catalog.ts`;
  writeFileSync(
    file,
    [
      header,
      `# Dapr ${DAPR_VERSION}. Written by \`${command}\` after driving traffic; do not edit.`,
      "# name<TAB>where it was scraped<TAB>label names seen",
      ...lines,
      "",
    ].join("\n"),
  );
  return lines.length;
}

/** On Kafka: one order through, then the lag series of the groups that read it (nothing else differs). */
async function kafkaLagCatalog(): Promise<void> {
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const r = await gql<{ createOrder: { id: string } }>(CREATE_ORDER, {
    input: {
      locationId: DEMO.phoBo.hoanKiem,
      idempotencyKey: randomUUID(),
      paymentMethod: "cash",
      paid: true,
      lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
    },
  });
  if (!r.data?.createOrder) throw new Error(JSON.stringify(r.errors));
  const lagUrl = `http://127.0.0.1:${mesh.plan.streamMetrics}/metrics`;
  // Sarama commits the dashboard's offset about a second after the delivery.
  await eventually(
    "the dashboard's group on orders is served",
    async () =>
      (await scrapeMetrics(lagUrl)).some(
        (x) => x.name === "kafka_consumergroup_lag_sum" && x.labels.consumergroup === "dashboard",
      )
        ? true
        : undefined,
    60_000,
  );
  for (const x of await scrapeMetrics(lagUrl)) {
    add(where, x.name, ["kafka-lag"]);
    add(labels, x.name, Object.keys(x.labels));
  }
  const n = writeCatalog(
    KAFKA_CATALOG,
    "# Consumer-lag metric names (samples) the local mesh exports when pub/sub is on Kafka (kafka-exporter's names).",
  );
  say(`${n} metric names → ${path.relative(process.cwd(), KAFKA_CATALOG)}`);
}

/** On Redis: the traffic that makes every metric appear, then every source scraped. */
async function meshCatalog(): Promise<void> {
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const order = async (paymentMethod: string, paid: boolean) => {
    const r = await gql<{ createOrder: { id: string } }>(CREATE_ORDER, {
      input: {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: randomUUID(),
        paymentMethod,
        paid,
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 2 }],
      },
    });
    if (!r.data?.createOrder) throw new Error(JSON.stringify(r.errors));
    return r.data.createOrder.id;
  };
  say("traffic: orders created, paid, voided; a bad request");
  await order("cash", true);
  const open = await order("card", false);
  await gql(`mutation PayOrder($i: PayOrderInput!) { payOrder(input: $i) { id } }`, {
    i: { orderId: open, idempotencyKey: randomUUID() },
  });
  await gql(`mutation VoidOrder($i: VoidOrderInput!) { voidOrder(input: $i) { id } }`, {
    i: { orderId: await order("cash", false), idempotencyKey: randomUUID(), reason: "catalog" },
  });
  await gql(`query BadInput { order(id: "not-an-id") { id } }`);
  // The same cached report twice: a miss, then a hit (dashboard_cache_lookups_total).
  for (let i = 0; i < 2; i++)
    await gql(`query Today($id: ID!) { location(id: $id) { todayRevenue todayOrders } }`, {
      id: DEMO.phoBo.hoanKiem,
    });

  say("traffic: a MoMo webhook while dashboardUpdates is subscribed over graphql-ws");
  const ws = createClient({
    url: mesh.edgeUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug),
    retryAttempts: 0,
  });
  let pushed = 0;
  const stop = ws.subscribe(
    {
      query: `subscription Tiles($id: ID!) { dashboardUpdates(locationId: $id) { todayOrders } }`,
      variables: { id: DEMO.phoBo.hoanKiem },
    },
    {
      next: () => void pushed++,
      error: (e) => say(`subscription error: ${JSON.stringify(e)}`),
      complete: () => {},
    },
  );
  await new Promise((r) => setTimeout(r, 1000));
  const payment = await openMomoOrder(gql);
  await postMomoIpn(mesh, payment, { badSignature: true });
  const res = await postMomoIpn(mesh, payment);
  if (res.status !== 204) throw new Error(`webhook: ${res.status} ${await res.text()}`);
  await eventually("a dashboard update pushed after the webhook", async () =>
    pushed > 1 ? true : undefined,
  );
  stop();
  await ws.dispose();

  say("traffic: AI questions, then the same with the ai app killed");
  const AI = `query AiTiles($id: ID!) { location(id: $id) { forecast(days: 7) { degraded } recommendations { id } anomalies { degraded } } }`;
  await gql(AI, { id: DEMO.phoBo.hoanKiem });
  // The ai app's own counters start again when it restarts: read everything once before.
  await new Promise((r) => setTimeout(r, 5_000));
  await collect();
  await mesh.killApp("ai");
  await gql(AI, { id: DEMO.phoBo.hoanKiem });
  await mesh.restartApp("ai");
  await gql(AI, { id: DEMO.phoBo.hoanKiem });
  // Sidecars export on their own schedule; give pub/sub deliveries and their metrics time.
  await new Promise((r) => setTimeout(r, 10_000));

  await collect();
  const n = writeCatalog(
    CATALOG,
    "# Metric names (samples) exported by the local mesh: apps, daprd sidecars, placement, scheduler, stream lag.",
  );
  say(`${n} metric names → ${path.relative(process.cwd(), CATALOG)}`);
}

try {
  await (onKafka ? kafkaLagCatalog() : meshCatalog());
} finally {
  await mesh.stop();
}
