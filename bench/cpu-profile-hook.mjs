// CPU profiles of one app of a mesh, on demand, for `BENCH_CPU_PROFILE=<dir> npm run bench:edge`:
// loaded into every app through NODE_OPTIONS="--import <this file>" (NODE_OPTIONS refuses
// --cpu-prof), it acts only in the app named by LSP_CPU_PROFILE_APP. SIGUSR2 starts the V8
// sampling profiler; the next SIGUSR2 stops it and writes <dir>/<app>-<n>.cpuprofile (n = 1, 2…),
// LSP_CPU_PROFILE_APP may name several apps, comma-separated (bench/periods.ts: dashboard,edge);
// so a profile covers exactly one measured run (no start-up, no warm-up).
import { Session } from "node:inspector";
import { renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";

const apps = (process.env.LSP_CPU_PROFILE_APP ?? "").split(",").map((a) => a.trim());
const app = process.env.SERVICE_NAME;
const dir = process.env.LSP_CPU_PROFILE_DIR;
if (app && dir && apps.includes(app) && !process.env.LSP_MIGRATE_ONLY) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  let running = false;
  let n = 0;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      session.post("Profiler.start");
      return;
    }
    running = false;
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      const file = path.join(dir, `${app}-${++n}.cpuprofile`);
      // Written aside and renamed: the reader sees the whole file or none.
      writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
