// Who holds the cores: CPU seconds per process of the machine between now and SECONDS later,
// grouped by role (each app, its daprd by --app-id, PostgreSQL, Redis, the control plane, load
// generators), read from /proc. Run it beside a benchmark while the phase of interest runs:
//   npx tsx bench/cpu-share.ts 20
// Linux only. Reads every process; its own cost is one /proc scan at each end.
import { readFileSync, readlinkSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { readProcStats, ticksPerSecond } from "./mesh-cpu.js";
const cores = Number(execFileSync("nproc").toString().trim());

function roleOf(args: string, cwd: string): string {
  const appId = /--app-id (\S+)/.exec(args)?.[1];
  if (args.includes("daprd") && appId) return `daprd[${appId}]`;
  const service = /\/services\/(\w+)/.exec(cwd)?.[1];
  if (service && /node|python|uvicorn|lsp_ai/.test(args)) return `app[${service}]`;
  if (args.includes("lsp_ai")) return "app[ai]";
  for (const name of ["postgres", "redis", "placement", "scheduler", "sentry", "wrk"]) {
    if (args.includes(name)) return name;
  }
  if (args.includes("bench/")) return "bench";
  return "other";
}

/** CPU ticks (user + system) and role of every process now. */
function snapshot(): Map<number, { ticks: number; role: string }> {
  const out = new Map<number, { ticks: number; role: string }>();
  for (const [pid, stat] of readProcStats()) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a process of another user, or gone: its role comes from its arguments alone
      }
      out.set(pid, { ticks: stat.ownTicks, role: roleOf(args, cwd) });
    } catch {
      // the process ended between listing and reading
    }
  }
  return out;
}

const seconds = Number(process.argv[2] ?? 10);
const before = snapshot();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const after = snapshot();
const elapsed = (performance.now() - t0) / 1000;

const byRole = new Map<string, number>();
for (const [pid, { ticks, role }] of after) {
  const used = (ticks - (before.get(pid)?.ticks ?? 0)) / ticksPerSecond;
  if (used > 0) byRole.set(role, (byRole.get(role) ?? 0) + used);
}
const total = [...byRole.values()].reduce((a, b) => a + b, 0);
console.log(
  `CPU over ${elapsed.toFixed(1)} s: ${total.toFixed(1)} CPU-s of ${(cores * elapsed).toFixed(1)} available (${((100 * total) / (cores * elapsed)).toFixed(0)} % of ${cores} cores)`,
);
for (const [role, used] of [...byRole].sort((a, b) => b[1] - a[1])) {
  console.log(
    `  ${role.padEnd(24)} ${used.toFixed(1).padStart(6)} CPU-s  ${((100 * used) / total).toFixed(1).padStart(5)} %`,
  );
}
