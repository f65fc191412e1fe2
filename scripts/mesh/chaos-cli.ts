// `npm run chaos`: a mesh of its own (LSP_PORT_BASE, default 4800; LSP_REPLICAS as for npm start,
// default two replicas of edge, dashboard and sales) under steady load, every fault of ALL_FAULTS
// in turn (LSP_CHAOS_FAULTS=sales,redis,… for a subset), then the checks and the recovery table.
// Bounded: the whole run is given LSP_CHAOS_TIMEOUT_S (default 1200) seconds. LOG_LEVEL=info keeps
// the apps' info lines (their start, for instance) in the run's logs.
//
// `npm run chaos -- --soak 30m` is the soak run: the same load for that long, the faults going
// round one every --fault-every (default 60s), a progress line every --sample-every (default
// 30s) with throughput, consumer lag and RSS, then the same checks, the RSS growth per process
// and the throughput over time; every sample is written to soak.csv beside chaos.md, and plotted
// in soak.svg.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { ALL_FAULTS, chaosTable, runChaos } from "./chaos.js";
import { startMesh } from "./mesh.js";
import { parseReplicas } from "./ports.js";
import { parseDuration, samplesCsv } from "./soak.js";
import { samplesSvg } from "./soak-plot.js";

const { values: args } = parseArgs({
  options: {
    soak: { type: "string" },
    "fault-every": { type: "string", default: "60s" },
    "sample-every": { type: "string", default: "30s" },
  },
});
let soakMs: number | undefined;
let faultEveryMs: number;
let sampleEveryMs: number;
try {
  soakMs = args.soak === undefined ? undefined : parseDuration(args.soak);
  faultEveryMs = parseDuration(args["fault-every"]);
  sampleEveryMs = parseDuration(args["sample-every"]);
} catch (err) {
  console.error(`[chaos] ✗ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
const base = Number(process.env.LSP_PORT_BASE ?? 4800);
// A soak run is given its own time plus what the start and the end checks take.
const timeoutS = Number(process.env.LSP_CHAOS_TIMEOUT_S ?? (soakMs ?? 0) / 1000 + 1200);
const faults = process.env.LSP_CHAOS_FAULTS?.split(",").filter(Boolean) ?? [...ALL_FAULTS];

const mesh = await startMesh({
  portBase: base,
  name: `chaos-${base}`,
  fresh: true,
  demoData: true,
  logLevel: process.env.LOG_LEVEL ?? "warn",
  replicas: parseReplicas(process.env.LSP_REPLICAS ?? "edge=2,dashboard=2,sales=2"),
  onProgress: (m) => console.log(`[mesh] ${m}`),
  onRestart: (e) => console.log(JSON.stringify(e)),
}).catch((err: unknown) => {
  // startMesh stopped what it had started.
  console.error(`[chaos] ✗ the mesh did not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
// Bounded, and never leaves the mesh behind: a timeout or a signal stops it first.
const giveUp = (why: string) => {
  console.error(`[chaos] ✗ ${why}; stopping the mesh`);
  void mesh.stop().finally(() => process.exit(1));
};
const deadline = setTimeout(() => giveUp(`not done within ${timeoutS} s`), timeoutS * 1000);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => giveUp(signal));
let code = 0;
try {
  const report = await runChaos({
    mesh,
    faults,
    ...(soakMs !== undefined ? { soakMs, steadyMs: faultEveryMs, sampleEveryMs } : {}),
  });
  const table = chaosTable(report);
  console.log(`\n${table}`);
  const out = path.join(mesh.runDir, "chaos.md");
  writeFileSync(out, `${table}\n`);
  console.log(`[chaos] ✓ written to ${out}`);
  if (report.samples.length > 0) {
    const csv = path.join(mesh.runDir, "soak.csv");
    writeFileSync(csv, samplesCsv(report.samples));
    const svg = path.join(mesh.runDir, "soak.svg");
    writeFileSync(svg, samplesSvg(report.samples));
    console.log(`[chaos] ✓ soak samples in ${csv}, their plot in ${svg}`);
  }
  const slow = report.faults.filter((f) => f.recoveryMs > 10_000);
  if (slow.length) {
    console.error(`[chaos] ✗ recovery above 10 s: ${slow.map((f) => f.fault).join(", ")}`);
    code = 1;
  }
} catch (err) {
  console.error(`[chaos] ✗ ${err instanceof Error ? err.stack : String(err)}`);
  code = 1;
} finally {
  await mesh.stop();
  clearTimeout(deadline);
}
process.exit(code);
