// What the OpenTelemetry preload (`node --import @lsp/runtime/telemetry`) costs a Node app: RSS,
// V8 heap and start-up time of a fresh `node` process without it and with it, in each of its
// modes (no endpoint: non-recording spans that still carry trace ids; an OTLP endpoint:
// spans recorded and exported; OTEL_SDK_DISABLED=true). Each variant runs in fresh child
// processes, one at a time, and the median of the runs is printed, with each figure also as the
// difference from bare `node` in the same run (the machine may be busy: compare within a run).
//
// A child imports what every app imports and the instrumentations hook (express, pg), serves an
// Express route on node:http and calls it with fetch (undici) `--requests` times, so that the
// http, express and undici instrumentations each see traffic; it samples memory after a GC at
// start-up (the imports done) and again after the requests.
//
// Runs the compiled preload (`npm run build` first), as the apps do. `--baseline <checkout>`
// adds the same variants for another built checkout (e.g. main before a change), in the same run.
//
//   npx tsx bench/telemetry-memory.ts [--runs 5] [--requests 200] [--baseline ../main]
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { numberArg, pct, say } from "./support.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const runs = numberArg("runs", 5);
const requests = numberArg("requests", 200);
const baselineArg = process.argv.indexOf("--baseline");
const baseline = baselineArg > 0 ? path.resolve(process.argv[baselineArg + 1] ?? "") : undefined;

/** One sample of the child's memory, in MB, and its start-up time in ms. */
interface Sample {
  /** From the process's start to the first line of the main script (the preload included). */
  startMs: number;
  startRssMb: number;
  startHeapMb: number;
  servedRssMb: number;
  servedHeapMb: number;
  /** Spans the receiver got from this child (0 unless the variant exports). */
  spans: number;
}

// The child: ESM, like the compiled apps. It imports express and pg (so that their
// instrumentations patch them), serves one route and calls it with fetch.
const CHILD = `
const startMs = performance.now();
const { default: express } = await import("express");
await import("pg");
const mb = (n) => Math.round((n / 1048576) * 10) / 10;
const sample = () => { globalThis.gc(); const m = process.memoryUsage(); return [mb(m.rss), mb(m.heapUsed)]; };
await new Promise((r) => setTimeout(r, 500));
const [startRssMb, startHeapMb] = sample();
const app = express();
app.get("/items/:id", (req, res) => res.json({ id: req.params.id }));
const server = app.listen(0, "127.0.0.1");
await new Promise((r) => server.once("listening", r));
const url = "http://127.0.0.1:" + server.address().port;
for (let i = 0; i < ${requests}; i++) await (await fetch(url + "/items/" + i)).json();
await new Promise((r) => setTimeout(r, 500));
const [servedRssMb, servedHeapMb] = sample();
server.close();
// The preload's shutdown hook flushes spans, as startService does on SIGTERM.
const flush = globalThis[Symbol.for("lsp.telemetry.shutdown")];
if (typeof flush === "function") await flush();
process.stdout.write(JSON.stringify({ startMs, startRssMb, startHeapMb, servedRssMb, servedHeapMb }));
process.exit(0);
`;

// A small OTLP/HTTP receiver: counts the spans it is sent (OTLP/JSON, as the SDK exports).
let received = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/v1/traces") {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
      };
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? []) received += ss.spans?.length ?? 0;
    }
    res.writeHead(req.url === "/v1/traces" ? 200 : 404, { "content-type": "application/json" }).end("{}");
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

interface Variant {
  name: string;
  preload?: string;
  env: Record<string, string>;
}

function variantsOf(label: string, checkout: string): Variant[] {
  const preload = path.join(checkout, "packages/runtime/dist/telemetry.js");
  if (!existsSync(preload)) throw new Error(`${preload} is missing: run \`npm run build\` in ${checkout}`);
  return [
    { name: `${label}, no endpoint`, preload, env: {} },
    { name: `${label}, OTLP endpoint`, preload, env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } },
    { name: `${label}, OTEL_SDK_DISABLED`, preload, env: { OTEL_SDK_DISABLED: "true" } },
  ];
}

const variants: Variant[] = [
  { name: "bare node", env: {} },
  ...(baseline ? variantsOf("baseline", baseline) : []),
  ...variantsOf("this tree", repo),
];

function runChild(v: Variant): Promise<Sample> {
  const before = received;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, OTEL_SERVICE_NAME: "bench", ...v.env };
  const args = [
    "--expose-gc",
    ...(v.preload ? ["--import", v.preload] : []),
    "--input-type=module",
    "-e",
    CHILD,
  ];
  return new Promise((resolve, reject) =>
    // cwd: the repo, so that the child resolves express and pg from its node_modules.
    execFile(process.execPath, args, { cwd: repo, env }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${v.name}: ${err.message}\n${stderr}`));
      // The receiver may still be reading the last export: give it a moment.
      setTimeout(() => resolve({ ...(JSON.parse(stdout) as Sample), spans: received - before }), 200);
    }),
  );
}

const median = (xs: number[]) => pct(xs, 50);
const rows: { name: string; m: Sample }[] = [];
for (const v of variants) {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await runChild(v));
    say(`${v.name}: run ${i + 1}/${runs}`);
  }
  const m = (k: keyof Sample) => median(samples.map((s) => s[k]));
  rows.push({
    name: v.name,
    m: {
      startMs: m("startMs"),
      startRssMb: m("startRssMb"),
      startHeapMb: m("startHeapMb"),
      servedRssMb: m("servedRssMb"),
      servedHeapMb: m("servedHeapMb"),
      spans: m("spans"),
    },
  });
}
receiver.close();

const bare = rows[0]!.m;
/** The figure, and beside it its difference from bare node (the preload's cost). */
const cell = (v: number, base: number, unit: string, isBare: boolean) =>
  isBare
    ? `${v.toFixed(1)} ${unit}`
    : `${v.toFixed(1)} ${unit} (${v >= base ? "+" : "−"}${Math.abs(v - base).toFixed(1)})`;
console.log(
  `\nmedian of ${runs} fresh processes each; ${requests} requests through Express and fetch; node ${process.version}`,
);
console.log(
  "| variant | start-up (preload included) | RSS at start-up | heap at start-up | RSS after requests | heap after requests | spans exported |",
);
console.log("|---|---|---|---|---|---|---|");
for (const [i, { name, m }] of rows.entries())
  console.log(
    `| ${name} | ${cell(m.startMs, bare.startMs, "ms", i === 0)} | ${cell(m.startRssMb, bare.startRssMb, "MB", i === 0)} | ` +
      `${cell(m.startHeapMb, bare.startHeapMb, "MB", i === 0)} | ${cell(m.servedRssMb, bare.servedRssMb, "MB", i === 0)} | ` +
      `${cell(m.servedHeapMb, bare.servedHeapMb, "MB", i === 0)} | ${m.spans} |`,
  );
