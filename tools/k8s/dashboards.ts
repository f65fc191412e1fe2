// Writes the Grafana dashboards of charts/lsp/files/dashboards/ (shipped as labelled ConfigMaps by
// the chart). Panels are written as code so that every dashboard shares the same datasource,
// units and variables; the JSON is committed and checked to be current by
// scripts/validate-k8s.ts. Metric names are the ones the apps (packages/runtime/src/metrics.ts,
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
          title: "Operations per second by operation",
          description:
            "GraphQL operations over HTTP and graphql-ws (@envelop/prometheus); a subscription counts when its stream ends. Names past the first 200 distinct ones are grouped as other.",
          unit: "reqps",
          targets: [
            {
              expr: `sum by (operationName, operationType) (rate(edge_graphql_operations_total{job=~"$release-edge"}[5m]))`,
              legend: "{{operationType}} {{operationName}}",
            },
          ],
        },
      ],
    ],
    [
      "Per operation",
      [
        {
          title: "p95 by operation",
          description: "Execution time of each query and mutation (subscriptions stay open: not timed here).",
          unit: "s",
          targets: [
            {
              expr: p95("edge_graphql_operation_duration_seconds", 'job=~"$release-edge"', "operationName"),
              legend: "{{operationName}}",
            },
          ],
        },
        {
          title: "Errors per second by operation and phase",
          description:
            "Errors in results (typed client mistakes included) and in parse, validate and context.",
          unit: "ops",
          targets: [
            {
              expr: `sum by (operationName, phase) (rate(edge_graphql_errors_total{job=~"$release-edge"}[5m]))`,
              legend: "{{operationName}} {{phase}}",
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
              expr: `sum by (app_id, dst_app_id) (rate(dapr_runtime_service_invocation_req_sent_total{app_id=~"$app"}[5m]))`,
              legend: "{{app_id}} → {{dst_app_id}}",
            },
          ],
        },
        {
          title: "p95 invocation latency (caller's sidecar, by callee)",
          description:
            "dapr_runtime_service_invocation_res_recv_latency_ms: the caller's daprd, from sending the call to the callee's response; Dapr 1.18 labels the callee src_app_id (the response's source).",
          unit: "ms",
          targets: [
            {
              expr: p95(
                "dapr_runtime_service_invocation_res_recv_latency_ms",
                'app_id=~"$app"',
                "app_id, src_app_id",
              ),
              legend: "{{app_id}} → {{src_app_id}}",
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
  "Orders and revenue, payments and the webhook-to-screen latency, cache hit rate, AI latency and fallbacks.",
  [
    [
      "Orders and revenue (sales, counted when the order's transaction commits)",
      [
        {
          title: "Orders per minute by status",
          unit: "short",
          targets: [
            {
              expr: `sum by (status) (rate(sales_orders_total{job=~"$release-sales"}[5m])) * 60`,
              legend: "{{status}}",
            },
          ],
        },
        {
          title: "Revenue per minute (VND)",
          description:
            "Booked (orders created) minus voided is the net revenue the dashboard shows; collected is paid.",
          unit: "short",
          targets: [
            {
              expr: `(sum(rate(sales_revenue_vnd_total{job=~"$release-sales",status="created"}[5m])) - sum(rate(sales_revenue_vnd_total{job=~"$release-sales",status="voided"}[5m]))) * 60`,
              legend: "net (created - voided)",
            },
            {
              expr: `sum(rate(sales_revenue_vnd_total{job=~"$release-sales",status="paid"}[5m])) * 60`,
              legend: "collected (paid)",
            },
          ],
        },
        {
          title: "New orders per minute by payment method",
          unit: "short",
          targets: [
            {
              expr: `sum by (payment_method) (rate(sales_orders_total{job=~"$release-sales",status="created"}[5m])) * 60`,
              legend: "{{payment_method}}",
            },
          ],
        },
      ],
    ],
    [
      "Payments",
      [
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
        {
          title: "Webhook to screen p50 / p95 / p99",
          description:
            "From the provider's webhook reaching payments to the edge pushing the resulting dashboardUpdates to each subscribed screen: payments → sales → dashboard → edge. Target: p95 < 500 ms.",
          unit: "s",
          targets: [0.5, 0.95, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(edge_webhook_to_screen_seconds_bucket{job=~"$release-edge"}[5m])))`,
            legend: `p${q * 100}`,
          })),
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
          title: "AI call p95 at the edge by actor method",
          description:
            "Edge → ai actor calls through Dapr, answered or not (the edge gives up at 800 ms). Target: < 150 ms.",
          unit: "s",
          targets: [
            {
              expr: p95("edge_ai_call_duration_seconds", 'job=~"$release-edge"', "method"),
              legend: "{{method}}",
            },
          ],
        },
        {
          title: "AI fallbacks per minute by method and reason",
          description:
            "Degraded answers the edge served instead of the model's: last_good (its last model answer) or rules (the rule-based answer); reason timeout, unavailable or unexpected_answer.",
          unit: "short",
          targets: [
            {
              expr: `sum by (method, reason, served) (rate(edge_ai_fallbacks_total{job=~"$release-edge"}[5m])) * 60`,
              legend: "{{method}} {{reason}} {{served}}",
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
