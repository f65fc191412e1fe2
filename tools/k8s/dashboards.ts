// Writes the Grafana dashboards of charts/lsp/files/dashboards/ (shipped as labelled ConfigMaps by
// the chart). Panels are written as code so that every dashboard shares the same datasource,
// units and variables; the JSON is committed and checked to be current by
// scripts/validate-k8s.ts. Metric names are the ones the apps (packages/service-kit/src/metrics.ts,
// services/*/src) and daprd actually export.
// Usage: node --import tsx tools/k8s/dashboards.ts [out dir]
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

type Unit = "reqps" | "percentunit" | "s" | "ms" | "short" | "bytes" | "ops";
interface Target {
  expr: string;
  legend: string;
}
interface Panel {
  title: string;
  description?: string;
  unit: Unit;
  targets: Target[];
  kind?: "timeseries" | "stat";
}

const DS = { type: "prometheus", uid: "${datasource}" };
/** The apps' ServiceMonitor jobs are `<release>-<app>`; daprd's PodMonitor carries app_id. */
const APP = 'job=~"$release-$app"';

function dashboard(uid: string, title: string, description: string, rows: [string, Panel[]][]): object {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const [rowTitle, rowPanels] of rows) {
    panels.push({
      id: id++,
      type: "row",
      title: rowTitle,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
    });
    y += 1;
    const w = Math.max(6, Math.floor(24 / rowPanels.length));
    rowPanels.forEach((p, i) => {
      panels.push({
        id: id++,
        type: p.kind ?? "timeseries",
        title: p.title,
        description: p.description ?? "",
        datasource: DS,
        gridPos: { h: 8, w, x: (i * w) % 24, y: y + Math.floor((i * w) / 24) * 8 },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: { legend: { displayMode: "table", placement: "bottom", calcs: ["mean", "max"] } },
        targets: p.targets.map((t, j) => ({
          refId: String.fromCharCode(65 + j),
          datasource: DS,
          expr: t.expr,
          legendFormat: t.legend,
        })),
      });
    });
    y += Math.ceil((rowPanels.length * w) / 24) * 8;
  }
  return {
    uid,
    title,
    description,
    tags: ["lsp"],
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "30s",
    time: { from: "now-1h", to: "now" },
    templating: {
      list: [
        { name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" },
        {
          name: "release",
          type: "query",
          datasource: DS,
          query: "label_values(http_server_requests_total, job)",
          regex: "/^(.*)-(auth|sales|dashboard|payments|notifications|ai|edge)$/",
          label: "Helm release",
        },
        {
          name: "app",
          type: "custom",
          query: "auth,sales,dashboard,payments,notifications,ai,edge",
          multi: true,
          includeAll: true,
          allValue: ".*",
          current: { text: "All", value: "$__all" },
          label: "App",
        },
      ],
    },
    panels,
  };
}

const p95 = (metric: string, sel: string, by: string) =>
  `histogram_quantile(0.95, sum by (${by}, le) (rate(${metric}_bucket{${sel}}[5m])))`;

const red = dashboard(
  "lsp-red",
  "LSP / RED per service",
  "Rate, errors and duration of every app's HTTP server.",
  [
    [
      "Rate, errors, duration",
      [
        {
          title: "Requests per second",
          unit: "reqps",
          targets: [
            { expr: `sum by (job) (rate(http_server_requests_total{${APP}}[5m]))`, legend: "{{job}}" },
          ],
        },
        {
          title: "Error ratio (5xx)",
          unit: "percentunit",
          targets: [
            {
              expr: `sum by (job) (rate(http_server_requests_total{${APP},status=~"5.."}[5m])) / sum by (job) (rate(http_server_requests_total{${APP}}[5m]))`,
              legend: "{{job}}",
            },
          ],
        },
        {
          title: "p95 duration",
          unit: "s",
          targets: [{ expr: p95("http_server_request_duration_seconds", APP, "job"), legend: "{{job}}" }],
        },
      ],
    ],
    [
      "Per route",
      [
        {
          title: "Requests per second by route",
          unit: "reqps",
          targets: [
            {
              expr: `sum by (job, route) (rate(http_server_requests_total{${APP}}[5m]))`,
              legend: "{{job}} {{route}}",
            },
          ],
        },
        {
          title: "p95 by route",
          unit: "s",
          targets: [
            {
              expr: p95("http_server_request_duration_seconds", APP, "job, route"),
              legend: "{{job}} {{route}}",
            },
          ],
        },
        {
          title: "Resident memory",
          unit: "bytes",
          targets: [{ expr: `sum by (job) (process_resident_memory_bytes{${APP}})`, legend: "{{job}}" }],
        },
      ],
    ],
  ],
);

const edge = dashboard(
  "lsp-edge",
  "LSP / GraphQL edge",
  "The stitched GraphQL edge: its endpoint, each subschema it delegates to, the webhook pass-through.",
  [
    [
      "Endpoint",
      [
        {
          title: "GraphQL requests per second by status",
          unit: "reqps",
          targets: [
            {
              expr: `sum by (status) (rate(http_server_requests_total{job=~"$release-edge",route="/graphql"}[5m]))`,
              legend: "{{status}}",
            },
          ],
        },
        {
          title: "GraphQL p50 / p95 / p99",
          unit: "s",
          targets: [0.5, 0.95, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(http_server_request_duration_seconds_bucket{job=~"$release-edge",route="/graphql"}[5m])))`,
            legend: `p${q * 100}`,
          })),
        },
        {
          title: "Requests per operation (span metrics)",
          description:
            "From the collector's spanmetrics connector: server spans of the edge by span name (bundled collector or your own with the same connector).",
          unit: "reqps",
          targets: [
            {
              expr: `sum by (span_name) (rate(traces_span_metrics_calls_total{service_name="edge",span_kind="SPAN_KIND_SERVER"}[5m]))`,
              legend: "{{span_name}}",
            },
          ],
        },
      ],
    ],
    [
      "Per subschema",
      [
        {
          title: "Delegations per second by subschema and outcome",
          unit: "reqps",
          targets: [
            {
              expr: `sum by (subschema, outcome) (rate(edge_upstream_requests_total{job=~"$release-edge"}[5m]))`,
              legend: "{{subschema}} {{outcome}}",
            },
          ],
        },
        {
          title: "p95 per subschema",
          unit: "s",
          targets: [
            {
              expr: p95("edge_upstream_request_duration_seconds", 'job=~"$release-edge"', "subschema"),
              legend: "{{subschema}}",
            },
          ],
        },
        {
          title: "Unavailable subschemas (share of delegations)",
          unit: "percentunit",
          targets: [
            {
              expr: `sum by (subschema) (rate(edge_upstream_requests_total{job=~"$release-edge",outcome="unavailable"}[5m])) / sum by (subschema) (rate(edge_upstream_requests_total{job=~"$release-edge"}[5m]))`,
              legend: "{{subschema}}",
            },
          ],
        },
      ],
    ],
  ],
);

const dapr = dashboard(
  "lsp-dapr",
  "LSP / Dapr sidecars",
  "daprd of every app: invocation, pub/sub, resiliency, memory.",
  [
    [
      "Service invocation",
      [
        {
          title: "Calls sent per second by caller",
          unit: "ops",
          targets: [
            {
              expr: `sum by (app_id, dest_app_id) (rate(dapr_runtime_service_invocation_req_sent_total{app_id=~"$app"}[5m]))`,
              legend: "{{app_id}} → {{dest_app_id}}",
            },
          ],
        },
        {
          title: "p95 invocation latency",
          unit: "ms",
          targets: [
            {
              expr: p95(
                "dapr_runtime_service_invocation_res_recv_latency_ms",
                'app_id=~"$app"',
                "app_id, dest_app_id",
              ),
              legend: "{{app_id}} → {{dest_app_id}}",
            },
          ],
        },
        {
          title: "Resiliency activations",
          unit: "ops",
          targets: [
            {
              expr: `sum by (app_id, policy) (rate(dapr_resiliency_activations_total{app_id=~"$app"}[5m]))`,
              legend: "{{app_id}} {{policy}}",
            },
          ],
        },
      ],
    ],
    [
      "Sidecar resources",
      [
        {
          title: "daprd resident memory",
          unit: "bytes",
          targets: [
            {
              expr: `sum by (pod) (process_resident_memory_bytes{job=~".*$release-daprd"})`,
              legend: "{{pod}}",
            },
          ],
        },
        {
          title: "daprd HTTP API p95",
          unit: "ms",
          targets: [
            { expr: p95("dapr_http_server_latency", 'app_id=~"$app"', "app_id"), legend: "{{app_id}}" },
          ],
        },
      ],
    ],
  ],
);

const pubsub = dashboard(
  "lsp-pubsub",
  "LSP / Pub/sub",
  "Topics between the apps: publish and delivery rates, backlog growth, delivery latency, dead letters.",
  [
    [
      "Flow",
      [
        {
          title: "Published per second by topic",
          unit: "ops",
          targets: [
            {
              expr: `sum by (topic) (rate(dapr_component_pubsub_egress_count{app_id=~"$app",success="true"}[5m]))`,
              legend: "{{topic}}",
            },
          ],
        },
        {
          title: "Delivered per second by subscriber and status",
          unit: "ops",
          targets: [
            {
              expr: `sum by (app_id, topic, process_status) (rate(dapr_component_pubsub_ingress_count{app_id=~"$app"}[5m]))`,
              legend: "{{app_id}} {{topic}} {{process_status}}",
            },
          ],
        },
        {
          title: "Lag: delivery p95 per subscriber",
          description: "Time daprd spends delivering a message to the app, retries included.",
          unit: "ms",
          targets: [
            {
              expr: p95("dapr_component_pubsub_ingress_latencies", 'app_id=~"$app"', "app_id, topic"),
              legend: "{{app_id}} {{topic}}",
            },
          ],
        },
      ],
    ],
    [
      "Dead letters",
      [
        {
          title: "Messages dead-lettered in the last hour by topic",
          unit: "short",
          kind: "stat",
          targets: [
            {
              expr: `sum by (topic) (increase(dapr_component_pubsub_ingress_count{topic=~".*deadletter"}[1h]))`,
              legend: "{{topic}}",
            },
          ],
        },
        {
          title: "Dropped deliveries per second",
          unit: "ops",
          targets: [
            {
              expr: `sum by (app_id, topic) (rate(dapr_component_pubsub_ingress_count{process_status="drop"}[5m]))`,
              legend: "{{app_id}} {{topic}}",
            },
          ],
        },
      ],
    ],
  ],
);

const business = dashboard(
  "lsp-business",
  "LSP / Business",
  "Orders, payments, cache hit rate, AI latency and fallbacks.",
  [
    [
      "Orders and payments",
      [
        {
          title: "Orders per minute (order events delivered to dashboard)",
          unit: "short",
          targets: [
            {
              expr: `sum(rate(dapr_component_pubsub_ingress_count{app_id="dashboard",topic="orders",process_status="success"}[5m])) * 60`,
              legend: "orders/min",
            },
          ],
        },
        {
          title: "Payment webhooks per minute by provider and outcome",
          unit: "short",
          targets: [
            {
              expr: `sum by (provider, outcome) (rate(payments_webhooks_total{job=~"$release-payments"}[5m])) * 60`,
              legend: "{{provider}} {{outcome}}",
            },
          ],
        },
        {
          title: "Webhook handling p95 by provider",
          unit: "s",
          targets: [
            {
              expr: p95("payments_webhook_duration_seconds", 'job=~"$release-payments"', "provider"),
              legend: "{{provider}}",
            },
          ],
        },
      ],
    ],
    [
      "Cache, AI, notifications",
      [
        {
          title: "Dashboard cache hit rate",
          unit: "percentunit",
          targets: [
            {
              expr: `sum(rate(dashboard_cache_lookups_total{job=~"$release-dashboard",result="hit"}[5m])) / sum(rate(dashboard_cache_lookups_total{job=~"$release-dashboard"}[5m]))`,
              legend: "hit rate",
            },
          ],
        },
        {
          title: "AI actor call p95 (ai's server side)",
          unit: "s",
          targets: [
            {
              expr: p95(
                "http_server_request_duration_seconds",
                'job=~"$release-ai",route=~"/actors/.*"',
                "route",
              ),
              legend: "{{route}}",
            },
          ],
        },
        {
          title: "AI degraded: resiliency activations on the LocationInsights actor (edge's sidecar)",
          description:
            "Retries, timeouts and circuit-breaker trips of edge → ai actor calls; each open breaker means the edge answered with its rule-based fallback.",
          unit: "ops",
          targets: [
            {
              expr: `sum by (policy, status) (rate(dapr_resiliency_activations_total{app_id="edge",target=~".*LocationInsights.*"}[5m]))`,
              legend: "{{policy}} {{status}}",
            },
          ],
        },
        {
          title: "Pushes per minute by result",
          unit: "short",
          targets: [
            {
              expr: `sum by (result) (rate(notifications_push_total{job=~"$release-notifications"}[5m])) * 60`,
              legend: "{{result}}",
            },
          ],
        },
      ],
    ],
  ],
);

const out =
  process.argv[2] ??
  path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "charts", "lsp", "files", "dashboards");
mkdirSync(out, { recursive: true });
for (const [name, d] of Object.entries({ red, edge, dapr, pubsub, business }))
  writeFileSync(path.join(out, `lsp-${name}.json`), JSON.stringify(d, null, 2) + "\n");
console.error(`[dashboards] 5 dashboards → ${out}`);
