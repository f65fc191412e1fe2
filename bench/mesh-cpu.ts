// CPU time of one mesh's processes, read from /proc: who holds the cores during a measured run,
// and what each process spends per request. Unlike bench/cpu-share.ts (every process of the
// machine), it counts only the mesh's own processes and their children (PostgreSQL's backends,
// the ai app's fit workers), so it stays meaningful while other work shares the machine: CPU
// time per request moves far less with contention than requests per second do.
// Linux only; two /proc scans per measured run.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`). */
export const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

/** CPU seconds (user + system) by process name, each process counted with its descendants. */
export type CpuSnapshot = Map<string, number>;

/** One process's CPU time from /proc/<pid>/stat, in clock ticks. */
export interface ProcStat {
  ppid: number;
  /** utime + stime: its own. */
  ownTicks: number;
  /** cutime + cstime: of its children that ended and were waited for (a worker that exited). */
  endedChildrenTicks: number;
}

/** /proc/<pid>/stat of every process now (the one parser of that file for the benchmarks). */
export function readProcStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command (which may hold spaces and parentheses): state is field 3.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(entry), {
        ppid: Number(fields[1]),
        ownTicks: Number(fields[11]) + Number(fields[12]),
        endedChildrenTicks: Number(fields[13]) + Number(fields[14]),
      });
    } catch {
      // the process ended between listing and reading
    }
  }
  return stats;
}

/** Each named process's CPU seconds so far, with its descendants' (the tree under its pid). */
export function meshCpu(processes: readonly { name: string; pid: number | undefined }[]): CpuSnapshot {
  const stats = readProcStats();
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const ticksOf = (s: ProcStat | undefined) => (s ? s.ownTicks + s.endedChildrenTicks : 0);
  const treeTicks = (pid: number): number =>
    ticksOf(stats.get(pid)) + (children.get(pid) ?? []).reduce((sum, c) => sum + treeTicks(c), 0);
  const out: CpuSnapshot = new Map();
  for (const p of processes) if (p.pid !== undefined) out.set(p.name, treeTicks(p.pid) / ticksPerSecond);
  return out;
}

/** CPU seconds each process used between two snapshots (a restarted process counts from 0). */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  const used = new Map<string, number>();
  for (const [name, s] of after) {
    const start = before.get(name) ?? 0;
    used.set(name, s >= start ? s - start : s);
  }
  return used;
}

/**
 * One line per process that used at least `minShare` of the total: its CPU milliseconds per unit
 * of work (request, order) and its share, largest first, and the total per unit.
 */
export function formatCpuPerUnit(
  used: Map<string, number>,
  units: number,
  unit: string,
  minShare = 0.02,
): string {
  const total = [...used.values()].reduce((a, b) => a + b, 0);
  const rows = [...used]
    .filter(([, s]) => total > 0 && s / total >= minShare)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${((1000 * s) / units).toFixed(2)} (${((100 * s) / total).toFixed(0)}%)`);
  return `CPU ms per ${unit}: total ${((1000 * total) / units).toFixed(2)} — ${rows.join(", ")}`;
}
