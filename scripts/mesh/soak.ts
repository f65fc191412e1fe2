/**
 * What a soak run (`npm run chaos -- --soak 30m`) samples while the chaos load and its faults go
 * on: resident memory of every process of the mesh (from /proc, by the pids in mesh.json), the
 * orders completed so far, and the consumer lag of every consumer group: of the Redis stream
 * groups (stream-metrics.ts, the series Prometheus alerts on), or of the Kafka groups when pub/sub
 * is on Kafka (kafka-lag.ts; chaos.ts picks the reader by the mesh's engine). At the end: RSS growth per process, throughput per interval and
 * the worst lag, as tables, plus the samples as CSV (one row per sample and process).
 */
import { readFileSync } from "node:fs";
import type { MeshProcess } from "./mesh.js";
import type { StreamGroup } from "./stream-metrics.js";

/** Reads every consumer group's lag now: readStreamGroups (Redis) or readKafkaLag (Kafka). */
export type LagReader = () => Promise<StreamGroup[]>;

export interface SoakSample {
  /** Since the load began. */
  atMs: number;
  /** Orders completed since the load began (cumulative). */
  orders: number;
  /** Resident memory per process name (KiB) and its pid at that moment. */
  rss: Record<string, { pid: number; kib: number }>;
  /** The largest consumer lag of any group (entries or events) and whose it is (stream or topic). */
  maxLag: { entries: number; stream: string; group: string };
  /** Entries delivered and not acknowledged, summed over every group. */
  pendingEntries: number;
}

/** VmRSS of a process in KiB, or undefined when it is gone (between a crash and its restart). */
export function rssKiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Parses a duration as `30m`, `90s`, `1h` or `1h30m` into milliseconds (RangeError otherwise). */
export function parseDuration(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!m || text.trim() === "") throw new RangeError(`"${text}" is not a duration such as 30m, 90s or 1h30m`);
  const [, h = "0", min = "0", s = "0"] = m;
  const ms = ((Number(h) * 60 + Number(min)) * 60 + Number(s)) * 1000;
  if (ms <= 0) throw new RangeError(`"${text}": the duration must be above zero`);
  return ms;
}

export async function takeSample(
  processes: readonly MeshProcess[],
  readLag: LagReader,
  atMs: number,
  orders: number,
): Promise<SoakSample> {
  const rss: SoakSample["rss"] = {};
  for (const p of processes) {
    if (p.pid === undefined) continue;
    const kib = rssKiB(p.pid);
    if (kib !== undefined) rss[p.name] = { pid: p.pid, kib };
  }
  // Redis or the broker down (a fault) is no reason to stop sampling: the lag of that moment is
  // unknown.
  const groups = await readLag().catch(() => []);
  let maxLag = { entries: 0, stream: "", group: "" };
  let pendingEntries = 0;
  for (const g of groups) {
    pendingEntries += g.pending;
    if (g.lag !== null && g.lag > maxLag.entries)
      maxLag = { entries: g.lag, stream: g.stream, group: g.group };
  }
  return { atMs, orders, rss, maxLag, pendingEntries };
}

const mib = (kib: number) => (kib / 1024).toFixed(1);
const minutes = (ms: number) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

/** One progress line: elapsed time, throughput since the previous sample, lag, total RSS. */
export function progressLine(prev: SoakSample | undefined, cur: SoakSample): string {
  const windowS = (cur.atMs - (prev?.atMs ?? 0)) / 1000;
  const rate = windowS > 0 ? (cur.orders - (prev?.orders ?? 0)) / windowS : 0;
  const totalKiB = Object.values(cur.rss).reduce((sum, r) => sum + r.kib, 0);
  const lag = cur.maxLag.entries > 0 ? ` (${cur.maxLag.stream}/${cur.maxLag.group})` : "";
  return (
    `[soak] ${minutes(cur.atMs)} orders ${cur.orders} (${rate.toFixed(1)}/s), ` +
    `max lag ${cur.maxLag.entries} entries${lag}, pending ${cur.pendingEntries}, ` +
    `RSS of ${Object.keys(cur.rss).length} processes ${mib(totalKiB)} MiB`
  );
}

/**
 * RSS per process: at its first and last sample and the growth between them. A process that was
 * restarted (a fault) is compared from its current pid's first sample: growth across a restart
 * would say nothing.
 */
export function rssTable(samples: readonly SoakSample[]): string {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.rss)))].sort();
  const rows = names.map((name) => {
    const seen = samples.filter((s) => s.rss[name]).map((s) => ({ atMs: s.atMs, ...s.rss[name]! }));
    const last = seen[seen.length - 1]!;
    const sameLife = seen.filter((s) => s.pid === last.pid);
    const first = sameLife[0]!;
    const restarts = new Set(seen.map((s) => s.pid)).size - 1;
    const growth = last.kib - first.kib;
    const spanMin = (last.atMs - first.atMs) / 60_000;
    const perMin = spanMin > 0 ? `${(growth / 1024 / spanMin).toFixed(2)}` : "–";
    return `| ${name} | ${mib(first.kib)} | ${mib(last.kib)} | ${growth >= 0 ? "+" : ""}${mib(growth)} | ${perMin} | ${restarts} |`;
  });
  return [
    "| process | RSS first MiB | RSS last MiB | growth MiB | MiB/min | restarts |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** Orders per second over each interval of about `everyMs` (the samples' own spacing at least). */
export function throughputTable(samples: readonly SoakSample[], everyMs: number): string {
  const rows: string[] = [];
  let from: SoakSample | undefined;
  for (const s of samples) {
    if (from === undefined) {
      from = s;
      continue;
    }
    if (s.atMs - from.atMs < everyMs && s !== samples[samples.length - 1]) continue;
    const rate = (s.orders - from.orders) / ((s.atMs - from.atMs) / 1000);
    rows.push(`| ${minutes(from.atMs)}–${minutes(s.atMs)} | ${rate.toFixed(1)} | ${s.maxLag.entries} |`);
    from = s;
  }
  return ["| interval | orders/s | max lag at end (entries) |", "|---|---|---|", ...rows].join("\n");
}

/** Every sample as CSV: one row per sample and process (for a plot). */
export function samplesCsv(samples: readonly SoakSample[]): string {
  const lines = ["at_s,orders,max_lag_entries,pending_entries,process,pid,rss_kib"];
  for (const s of samples)
    for (const [name, r] of Object.entries(s.rss))
      lines.push(
        [(s.atMs / 1000).toFixed(1), s.orders, s.maxLag.entries, s.pendingEntries, name, r.pid, r.kib].join(
          ",",
        ),
      );
  return `${lines.join("\n")}\n`;
}
