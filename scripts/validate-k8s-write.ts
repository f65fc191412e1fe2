// Regenerates what scripts/validate-k8s.ts checks to be current: the chart's copies of the local
// Dapr Subscriptions and Resiliency policies and of components/access.yaml (verbatim: the chart's
// access rules are derived from it), the Grafana dashboards, and the rendered example of the
// default profile. Run after changing components/, tools/k8s/dashboards.ts or the chart:
//   npx tsx scripts/validate-k8s-write.ts
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ACCESS_COPY,
  ACCESS_SOURCE,
  CHART,
  DAPR_COPIES,
  PROFILES,
  RENDERED,
  daprCopies,
  generateDashboards,
  helmTemplate,
  k8sTools,
} from "./validate-k8s-lib.js";

const tools = k8sTools();

mkdirSync(DAPR_COPIES, { recursive: true });
for (const f of readdirSync(DAPR_COPIES)) rmSync(path.join(DAPR_COPIES, f));
for (const [file, text] of daprCopies(tools)) writeFileSync(path.join(DAPR_COPIES, file), text);
copyFileSync(ACCESS_SOURCE, ACCESS_COPY);
console.log(`wrote ${path.relative(process.cwd(), DAPR_COPIES)}/`);

generateDashboards(path.join(CHART, "files", "dashboards"));
console.log("wrote charts/lsp/files/dashboards/");

const rendered = helmTemplate(tools, PROFILES.default ?? []);
if (!rendered.ok) throw new Error(rendered.output);
mkdirSync(path.dirname(RENDERED), { recursive: true });
writeFileSync(RENDERED, rendered.output);
console.log(`wrote ${path.relative(process.cwd(), RENDERED)}`);
