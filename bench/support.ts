// What every benchmark needs: its command-line numbers, percentiles, progress on stderr and a
// fresh mesh of its own (the same launcher as `npm start`).
import { startMesh, type Mesh } from "../scripts/mesh/mesh.js";

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
