// CPU profiles of some apps of a benchmark's mesh over the stretches the benchmark measures
// (`BENCH_CPU_PROFILE=<dir>`): one place for what bench/edge.ts, bench/periods.ts and bench/ai.ts
// each did by hand. The apps run bench/cpu-profile-hook.mjs, which starts the V8 profiler on one
// SIGUSR2 and writes <dir>/<app>-<n>.cpuprofile on the next.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Mesh } from "../scripts/mesh/mesh.js";
import { summariseCpuProfile } from "./support.js";

export interface CpuProfiles {
  readonly dir: string;
  /** Starts the profiler of every profiled app. */
  start(mesh: Mesh): void;
  /** Stops them and waits for their files: one summary per app, headed by `label`. */
  stop(mesh: Mesh, label: string): Promise<string[]>;
}

/**
 * When BENCH_CPU_PROFILE names a directory, makes the mesh's apps load the profiling hook (call it
 * before the mesh starts: they inherit NODE_OPTIONS) and returns the profiler of `apps`; else
 * undefined, and the benchmark runs as it would.
 */
export function cpuProfilesFromEnv(apps: readonly string[]): CpuProfiles | undefined {
  if (!process.env.BENCH_CPU_PROFILE) return undefined;
  const dir = path.resolve(process.env.BENCH_CPU_PROFILE);
  mkdirSync(dir, { recursive: true });
  const hook = path.join(path.dirname(fileURLToPath(import.meta.url)), "cpu-profile-hook.mjs");
  // NODE_OPTIONS refuses --cpu-prof; the hook is inherited by every app and acts only in `apps`.
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --import ${hook}`;
  process.env.LSP_CPU_PROFILE_APP = apps.join(",");
  process.env.LSP_CPU_PROFILE_DIR = dir;
  let stops = 0;
  const signal = (mesh: Mesh) => {
    for (const app of apps) {
      const pid = mesh.processes().find((p) => p.name === app)?.pid;
      if (pid) process.kill(pid, "SIGUSR2");
    }
  };
  return {
    dir,
    start: signal,
    async stop(mesh, label) {
      signal(mesh);
      stops++;
      const summaries: string[] = [];
      for (const app of apps) {
        const file = path.join(dir, `${app}-${stops}.cpuprofile`);
        for (let i = 0; i < 600 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
        summaries.push(
          `${label}, ${app} (${file}):\n${existsSync(file) ? summariseCpuProfile(readFileSync(file, "utf8")) : "  (no profile written)"}`,
        );
      }
      return summaries;
    },
  };
}
