// What every benchmark needs: its command-line numbers, percentiles, progress on stderr and a
// fresh mesh of its own (the same launcher as `npm start`).
import { randomUUID } from "node:crypto";
import { startMesh, type Mesh } from "../scripts/mesh/mesh.js";
import { CREATE_ORDER, type edgeClient } from "../test/support/graphql-client.js";

/** `--name 42` on the command line, else the fallback. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export const fmtMs = (ms: number, digits = 1) => `${ms.toFixed(digits)} ms`;

export const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

/** A fresh mesh with the demo data, quiet logs, progress on stderr. */
export function startBenchMesh(name: string, portBase: number): Promise<Mesh> {
  return startMesh({ portBase, name, fresh: true, demoData: true, logLevel: "warn", onProgress: say });
}

/** One wrk run: throughput, latency and the generator's own CPU use. */
export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Socket errors and timeouts. */
  errors: number;
  /** Answers with a status other than 2xx/3xx. */
  non2xx: number;
  /** wrk's CPU time over the run's wall time (1 = one whole core). */
  generatorCpu: number;
}

/**
 * Runs wrk (1 thread) pinned to one core with `taskset`, POSTing `body` with `headers` in a closed
 * loop over `connections` connections for `seconds`. The lean generator keeps the figure about
 * the server: its CPU share is reported beside it.
 */
export async function wrk(opts: {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  /** The core wrk is pinned to. */
  core: number;
}): Promise<WrkResult> {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const path = await import("node:path");
  const { execFile } = await import("node:child_process");
  const dir = mkdtempSync(path.join(tmpdir(), "lsp-wrk-"));
  const script = path.join(dir, "post.lua");
  const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal here
  writeFileSync(
    script,
    [
      `wrk.method = "POST"`,
      `wrk.body = ${lua(opts.body)}`,
      ...Object.entries(opts.headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
      `done = function(summary, latency, requests)`,
      `  local e = summary.errors`,
      `  io.write(string.format("WRK %d %d %d %d %d %d\\n", summary.requests, summary.duration,`,
      `    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))`,
      `end`,
    ].join("\n"),
  );
  const command = `taskset -c ${opts.core} wrk -t1 -c${opts.connections} -d${opts.seconds}s -s ${script} ${opts.url}; times`;
  const out = await new Promise<string>((resolve, reject) =>
    execFile("bash", ["-c", command], { maxBuffer: 1 << 20 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  const m = /WRK (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(out);
  if (!m) throw new Error(`wrk: no summary in its output:\n${out}`);
  const [requests, durationUs, p50Us, p99Us, errors, non2xx] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // `times`' second line: the children's user and system time, e.g. "0m1.234s 0m0.567s".
  const lines = out.trim().split("\n");
  const secs = (t: string) => {
    const [, min, s] = /(\d+)m([\d.]+)s/.exec(t) ?? [];
    return Number(min ?? 0) * 60 + Number(s ?? 0);
  };
  const [user = "", sys = ""] = (lines[lines.length - 1] ?? "").split(/\s+/);
  return {
    rps: requests / (durationUs / 1e6),
    p50Ms: p50Us / 1000,
    p99Ms: p99Us / 1000,
    requests,
    errors,
    non2xx,
    generatorCpu: (secs(user) + secs(sys)) / (durationUs / 1e6),
  };
}

interface CpuProfile {
  nodes: {
    id: number;
    hitCount?: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples?: number[];
}

/** Where a profiled function lives: a package, a file of ours, Node's internals, or V8's own. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return url.split("/")[0]!.replace(/^(node:[a-z_]+).*$/, "$1");
  const ours = /\/(services|packages|bench|scripts)\/(.+)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

/**
 * Who holds the cores in a V8 CPU profile: the share of non-idle samples (self time) by owner
 * (package, our file, node internals, garbage collector) and the top functions.
 */
export function summariseCpuProfile(json: string, top = 12): string {
  const profile = JSON.parse(json) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  if (profile.samples) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, count] of hits) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") continue;
    total += count;
    const owner = ownerOf(frame.url, frame.functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + count);
    const fn = `${frame.functionName || "(anonymous)"} ${owner}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + count);
  }
  const list = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `    ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join("\n");
  return `  by owner (self time, ${total} busy samples):\n${list(owners)}\n  top functions:\n${list(functions)}`;
}

/** Some sales at a location, so that the figures a benchmark reads are not all zero. */
export async function seedSales(gql: ReturnType<typeof edgeClient>, locationId: string, itemId: string) {
  for (let i = 0; i < 50; i++)
    await gql(CREATE_ORDER, {
      input: {
        locationId,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId, quantity: 1 + (i % 3) }],
      },
    });
  // Let the dashboard apply them before anything is measured.
  await new Promise((r) => setTimeout(r, 2000));
}
