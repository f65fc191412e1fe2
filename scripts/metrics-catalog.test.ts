// Every metric the Grafana dashboards and the Prometheus alert rules query must be one the mesh
// actually exports: scripts/metrics-catalog.txt, written from the /metrics endpoints of a running
// local mesh by scripts/metrics-catalog.ts (refresh it there after adding a metric). A panel or
// alert with a made-up metric name, or a label its metric does not carry, fails here.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";

const REPO = path.resolve(import.meta.dirname, "..");
const DASHBOARDS = path.join(REPO, "charts", "lsp", "files", "dashboards");
const ALERTS = path.join(REPO, "charts", "lsp", "files", "alerts");
const CATALOG = path.join(REPO, "scripts", "metrics-catalog.txt");
const KAFKA_CATALOG = path.join(REPO, "scripts", "metrics-catalog-kafka.txt");

/** Series Prometheus makes itself for every scrape target (no app exports them). */
const PROMETHEUS_OWN = new Set(["up"]);
/** Labels Prometheus (ServiceMonitor / PodMonitor) adds to every scraped sample. */
const TARGET_LABELS = new Set(["job", "instance", "pod", "namespace", "service", "container", "endpoint"]);

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool"]);
const OPERATORS = new Set(["and", "or", "unless", "offset", "inf", "nan"]);

export interface Selector {
  metric: string;
  labels: string[];
}

/**
 * The metric selectors of a PromQL expression: each metric name with the label names its
 * matchers use. Functions and aggregations (a name followed by "("), grouping clauses, strings,
 * ranges and numbers are not metrics.
 */
export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  // Strings first (a regex matcher may hold anything), then ranges, then grouping label lists.
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const token = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  for (let m = token.exec(s); m; m = token.exec(s)) {
    const name = m[0];
    const before = s[m.index - 1] ?? "";
    let rest = s.slice(m.index + name.length);
    if (/[0-9.$]/.test(before)) continue; // 1e3, $variables
    if (KEYWORDS.has(name) || OPERATORS.has(name.toLowerCase())) continue;
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation
    let labels: string[] = [];
    const matchers = /^\s*\{([^}]*)\}/.exec(rest);
    if (matchers) {
      labels = [...(matchers[1] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map(
        (l) => l[1] ?? "",
      );
      rest = rest.slice(matchers[0].length);
      token.lastIndex = m.index + name.length + matchers[0].length;
    }
    out.push({ metric: name, labels });
  }
  return out;
}

/** The label names of the expression's `by (…)` / `without (…)` clauses. */
export function groupingLabels(expr: string): string[] {
  const s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...s.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? "")
      .split(",")
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/**
 * name → label names, from scripts/metrics-catalog.txt and, for the consumer-lag series served
 * when pub/sub is on Kafka, scripts/metrics-catalog-kafka.txt.
 */
function catalog(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const file of [CATALOG, KAFKA_CATALOG])
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const [name = "", , labels = ""] = line.split("\t");
      out.set(name, new Set(labels.split(",").filter(Boolean)));
    }
  return out;
}

interface Query {
  where: string;
  expr: string;
}

function dashboardQueries(): Query[] {
  type Dashboard = {
    title: string;
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string; query?: unknown }[] };
  };
  const out: Query[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith(".json"))) {
    const d = JSON.parse(readFileSync(path.join(DASHBOARDS, file), "utf8")) as Dashboard;
    for (const p of d.panels)
      for (const t of p.targets ?? []) out.push({ where: `${d.title} / ${p.title}`, expr: t.expr });
    for (const v of d.templating.list) {
      const lv = typeof v.query === "string" ? /^label_values\(\s*([^,]+),/.exec(v.query) : null;
      if (lv) out.push({ where: `${d.title} / variable ${v.name}`, expr: lv[1] ?? "" });
    }
  }
  return out;
}

function alertQueries(): Query[] {
  type Rules = { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
  const out: Query[] = [];
  for (const file of readdirSync(ALERTS).filter((f) => /\.ya?ml$/.test(f))) {
    const rules = parseYaml(readFileSync(path.join(ALERTS, file), "utf8")) as Rules;
    for (const g of rules.groups)
      for (const r of g.rules) out.push({ where: `${file} / ${r.alert ?? r.record}`, expr: r.expr });
  }
  return out;
}

/** What in these queries is not exported: unknown metrics, and labels their metric lacks. */
function problems(queries: Query[], known: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  for (const q of queries) {
    const inExpr = new Set(TARGET_LABELS);
    for (const sel of selectors(q.expr)) for (const l of known.get(sel.metric) ?? []) inExpr.add(l);
    for (const l of groupingLabels(q.expr))
      if (!inExpr.has(l))
        found.push(`${q.where}: no metric of the expression has the label ${l} it groups by`);
    for (const sel of selectors(q.expr)) {
      if (PROMETHEUS_OWN.has(sel.metric)) continue;
      const labels = known.get(sel.metric);
      if (!labels) {
        found.push(`${q.where}: ${sel.metric} is not exported`);
        continue;
      }
      for (const l of sel.labels)
        if (!labels.has(l) && !TARGET_LABELS.has(l))
          found.push(`${q.where}: ${sel.metric} has no label ${l}`);
    }
  }
  return found;
}

describe("dashboards and alert rules query only exported metrics", () => {
  const known = catalog();

  test("the selector extraction reads PromQL as Prometheus does", () => {
    assert.deepEqual(
      selectors(
        'histogram_quantile(0.95, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{job=~"$release-(a|b)",route="/x{y}"}[5m]))) > 0.5',
      ),
      [{ metric: "http_server_request_duration_seconds_bucket", labels: ["job", "route"] }],
    );
    assert.deepEqual(
      selectors(
        'sum(rate(a_total[5m])) / sum without (x) (rate(b_total{c!="1"}[1h] offset 1h)) * 60 and on (d) up == 0 or 1e3',
      ),
      [
        { metric: "a_total", labels: [] },
        { metric: "b_total", labels: ["c"] },
        { metric: "up", labels: [] },
      ],
    );
  });

  test("the catalog was written from a running mesh (apps and sidecars)", () => {
    for (const name of [
      "http_server_requests_total",
      "dapr_http_server_latency_bucket",
      "sales_orders_total",
    ])
      assert.ok(known.has(name), `${name} missing: regenerate with scripts/metrics-catalog.ts`);
  });

  test("a made-up metric or label is caught (the check can fail)", () => {
    const found = problems(
      [
        { where: "fake", expr: "sum(rate(lsp_made_up_total[5m]))" },
        { where: "fake", expr: 'sum(rate(http_server_requests_total{tenant="x"}[5m]))' },
        {
          where: "fake",
          expr: "sum by (dest_app_id) (rate(dapr_runtime_service_invocation_req_sent_total[5m]))",
        },
      ],
      known,
    );
    assert.deepEqual(found, [
      "fake: lsp_made_up_total is not exported",
      "fake: http_server_requests_total has no label tenant",
      "fake: no metric of the expression has the label dest_app_id it groups by",
    ]);
  });

  test("every dashboard panel and variable", () => {
    const queries = dashboardQueries();
    assert.ok(queries.length > 20, `only ${queries.length} dashboard queries found`);
    assert.deepEqual(problems(queries, known), []);
  });

  test("every alert rule", () => {
    const queries = alertQueries();
    assert.ok(queries.length >= 10, `only ${queries.length} alert rules found`);
    assert.deepEqual(problems(queries, known), []);
  });
});
