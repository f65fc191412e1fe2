// What it costs a Node app to start, compiled (dist/src/main.js under the ESM preload, as before)
// vs bundled (dist/bundle/src/main.mjs under its own preload, scripts/build-bundles.ts): fresh `node`
// processes of one app, the two forms alternated, each run to the point where the app has loaded
// every module and started tracing and stops on its configuration (no environment: the config
// error, exit 78). That is the work every start and restart repeats before it touches the database
// or the sidecar. Prints per form the median CPU (user + system), peak RSS and wall time, and the
// bundled form as a ratio of the compiled one from the same run.
// Usage: npm run build && npx tsx scripts/build-bundles.ts && npx tsx bench/app-start.ts [--app dashboard] [--runs 10]
// (LSP_NODE_FLAGS adds V8 flags to both forms, as the launcher does.)
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BUNDLE_MAIN, BUNDLE_PRELOAD, nodeApps } from "../scripts/build-bundles.js";
import { REPO } from "../scripts/mesh/repo.js";
import { numberArg, pct } from "./support.js";

const runs = numberArg("runs", 10);
const appIndex = process.argv.indexOf("--app");
const app = appIndex > 0 ? (process.argv[appIndex + 1] ?? "") : "dashboard";
if (!nodeApps().includes(app)) {
  console.error(`--app: not a Node app: ${JSON.stringify(app)} (apps: ${nodeApps().join(", ")})`);
  process.exit(2);
}
const cwd = path.join(REPO, "services", app);
const nodeFlags = (process.env.LSP_NODE_FLAGS ?? "").split(" ").filter(Boolean);

const FORMS = [
  {
    name: "compiled",
    args: ["--import", "@lsp/runtime/telemetry", "dist/src/main.js"],
    entry: "dist/src/main.js",
  },
  {
    name: "bundled",
    args: ["--import", `./${BUNDLE_PRELOAD}`, BUNDLE_MAIN],
    entry: BUNDLE_MAIN,
  },
] as const;
for (const form of FORMS)
  if (!existsSync(path.join(cwd, form.entry))) {
    console.error(
      `services/${app}/${form.entry} is missing: run npm run build && npx tsx scripts/build-bundles.ts`,
    );
    process.exit(2);
  }

/** The config error's exit code (packages/runtime: EX_CONFIG). */
const CONFIG_ERROR = 78;

// Loaded first into each child: its resource usage when it exits (CPU and peak RSS of the whole
// process, the preload's loader thread included).
const dir = mkdtempSync(path.join(tmpdir(), "app-start-"));
const USAGE_HOOK =
  "data:text/javascript," +
  encodeURIComponent(
    `import { writeFileSync } from "node:fs";
process.on("exit", () => writeFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify(process.resourceUsage())));`,
  );

interface Sample {
  cpuMs: number;
  rssMb: number;
  wallMs: number;
}

async function runOnce(form: (typeof FORMS)[number], n: number): Promise<Sample> {
  const usageFile = path.join(dir, `${form.name}-${n}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, "--import", USAGE_HOOK, ...form.args], {
    cwd,
    // No app settings: the app stops on its configuration once everything is loaded.
    env: { PATH: process.env.PATH, BENCH_USAGE_FILE: usageFile },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const wallMs = performance.now() - started;
  if (code !== CONFIG_ERROR || !stderr.includes("invalid configuration"))
    throw new Error(`${form.name} ${app} did not stop on its configuration (exit ${code}):\n${stderr}`);
  const usage = JSON.parse(readFileSync(usageFile, "utf8")) as NodeJS.ResourceUsage;
  return {
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
    rssMb: usage.maxRSS / 1024,
    wallMs,
  };
}

const samples = new Map<string, Sample[]>(FORMS.map((f) => [f.name, []]));
try {
  // One warm-up of each (the page cache), then the forms alternated so that load elsewhere on the
  // machine falls on both alike.
  for (const form of FORMS) await runOnce(form, -1);
  for (let n = 0; n < runs; n++)
    for (const form of FORMS) samples.get(form.name)!.push(await runOnce(form, n));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => pct(xs, 50);
const summary = FORMS.map((form) => {
  const s = samples.get(form.name)!;
  return {
    name: form.name,
    cpuMs: median(s.map((x) => x.cpuMs)),
    rssMb: median(s.map((x) => x.rssMb)),
    wallMs: median(s.map((x) => x.wallMs)),
  };
});
console.log(`${app}: start to the config error, median of ${runs} runs each (node ${process.version})`);
console.log("form        CPU (user+sys)   peak RSS     wall");
for (const s of summary)
  console.log(
    `${s.name.padEnd(10)}  ${`${s.cpuMs.toFixed(0)} ms`.padStart(14)}  ${`${s.rssMb.toFixed(1)} MB`.padStart(9)}  ${`${s.wallMs.toFixed(0)} ms`.padStart(7)}`,
  );
const [compiled, bundled] = summary as [(typeof summary)[0], (typeof summary)[0]];
console.log(
  `bundled / compiled: CPU ${(bundled.cpuMs / compiled.cpuMs).toFixed(2)}×, peak RSS ${(bundled.rssMb / compiled.rssMb).toFixed(2)}×, wall ${(bundled.wallMs / compiled.wallMs).toFixed(2)}×`,
);
