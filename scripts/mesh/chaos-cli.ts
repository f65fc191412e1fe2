// `npm run chaos`: a mesh of its own (LSP_PORT_BASE, default 4800; LSP_REPLICAS as for npm start,
// default two replicas of edge, dashboard and sales) under steady load, every fault of ALL_FAULTS
// in turn (LSP_CHAOS_FAULTS=sales,redis,… for a subset), then the checks and the recovery table.
// Bounded: the whole run is given LSP_CHAOS_TIMEOUT_S (default 1200) seconds. LOG_LEVEL=info keeps
// the apps' info lines (their start, for instance) in the run's logs.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { ALL_FAULTS, chaosTable, runChaos } from "./chaos.js";
import { startMesh } from "./mesh.js";
import { parseReplicas } from "./ports.js";

const base = Number(process.env.LSP_PORT_BASE ?? 4800);
const timeoutS = Number(process.env.LSP_CHAOS_TIMEOUT_S ?? 1200);
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
  const report = await runChaos({ mesh, faults });
  const table = chaosTable(report);
  console.log(`\n${table}`);
  const out = path.join(mesh.runDir, "chaos.md");
  writeFileSync(out, `${table}\n`);
  console.log(`[chaos] ✓ written to ${out}`);
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
