/**
 * The chart's memory requests and limits, derived from measured figures rather than guessed.
 *
 * `npm run bench:mesh -- --write-figures` writes bench/results/mesh-memory.json: each process's
 * idle RSS and PSS and its highest RSS under load, on the local mesh, which runs every app as its
 * image does (bundled, same flags). From those figures one rule gives each app's memory request,
 * limit and V8 heap (`derivedAppMemory`); charts/lsp/values.yaml carries the results, and
 * scripts/chart-sizing.test.ts fails when they differ, so a new measurement cannot leave the chart
 * behind. `npx tsx scripts/chart-sizing.ts --write` rewrites values.yaml (comments kept) and the
 * README's memory table from the figures.
 *
 * The sidecars are not derived: in a cluster daprd is Dapr's upstream image, with every component
 * compiled in, not the trimmed build the local mesh measures (README, "Requests, limits and
 * measured memory").
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseDocument } from "yaml";
import { z } from "zod";
import { loadAppManifest, REPO, type AppSpec } from "./app-manifest.js";

export const MESH_MEMORY_FILE = path.join(REPO, "bench/results/mesh-memory.json");
export const VALUES_FILE = path.join(REPO, "charts/lsp/values.yaml");
export const README_FILE = path.join(REPO, "README.md");

const ProcessMemory = z.strictObject({
  idleRssMb: z.number().nonnegative(),
  idlePssMb: z.number().nonnegative(),
  /** Highest one-second RSS sample while the benchmark's clients ran. */
  loadedRssMb: z.number().nonnegative(),
});

const MeshMemoryFile = z.strictObject({
  measuredAt: z.string().datetime(),
  commit: z.string().min(1),
  command: z.string().min(1),
  coldStartS: z.number().positive(),
  load: z.strictObject({
    clients: z.number().int().positive(),
    seconds: z.number().positive(),
    requests: z.number().int().nonnegative(),
    errors: z.number().int().nonnegative(),
  }),
  /** By process group name: `<app>`, `<app>.daprd`, `postgres`, `redis`, … */
  processes: z.record(z.string(), ProcessMemory),
});

export type MeshMemoryFigures = z.infer<typeof MeshMemoryFile>;

export function readMeshMemory(file = MESH_MEMORY_FILE): MeshMemoryFigures {
  return MeshMemoryFile.parse(JSON.parse(readFileSync(file, "utf8")));
}

export interface AppMemory {
  requestMi: number;
  limitMi: number;
  /** V8's old-space ceiling (`--max-old-space-size`), Node apps only. */
  heapMb?: number;
}

const roundUp = (value: number, step: number) => Math.ceil(value / step) * step;

/**
 * The rule. The request covers the loaded peak with a quarter to spare (the scheduler places pods
 * by it, so it should be what the pod holds when busy, not a round guess). The limit is twice the
 * request: a burst, a large export or a model fit has room before the OOM killer. V8's heap ceiling
 * sits 128 MB under the limit, the room the rest of a Node process takes (code, buffers, the
 * young generation), so V8 collects hard before the kernel kills.
 */
export function derivedAppMemory(
  app: Pick<AppSpec, "runtime">,
  measured: { loadedRssMb: number },
): AppMemory {
  const requestMi = roundUp(measured.loadedRssMb * 1.25, 16);
  const limitMi = requestMi * 2;
  return app.runtime === "node" ? { requestMi, limitMi, heapMb: limitMi - 128 } : { requestMi, limitMi };
}

/** Each manifest app's derived memory; fails naming an app the figures do not have. */
export function derivedMemoryOfApps(figures: MeshMemoryFigures): Map<string, AppMemory> {
  const out = new Map<string, AppMemory>();
  for (const app of loadAppManifest().apps) {
    const measured = figures.processes[app.name];
    if (!measured)
      throw new Error(
        `${path.relative(REPO, MESH_MEMORY_FILE)} has no figures for ${app.name}: re-run bench:mesh`,
      );
    out.set(app.name, derivedAppMemory(app, measured));
  }
  return out;
}

const mi = (value: unknown) => {
  const m = /^(\d+)Mi$/.exec(String(value));
  return m ? Number(m[1]) : NaN;
};

/** What values.yaml says about each app's memory. */
export function chartAppMemory(valuesText: string): Map<string, AppMemory> {
  const values = parseDocument(valuesText).toJS() as {
    apps?: Record<
      string,
      { resources?: { requests?: { memory?: string }; limits?: { memory?: string } }; heapMb?: number }
    >;
  };
  const out = new Map<string, AppMemory>();
  for (const [name, app] of Object.entries(values.apps ?? {})) {
    out.set(name, {
      requestMi: mi(app.resources?.requests?.memory),
      limitMi: mi(app.resources?.limits?.memory),
      ...(app.heapMb === undefined ? {} : { heapMb: app.heapMb }),
    });
  }
  return out;
}

export interface SidecarMemory {
  requestMi: number;
  limitMi: number;
  goMemLimit: string;
  goGC: string;
}

/** The sidecar annotations of values.yaml (`dapr.sidecar`). */
export function chartSidecarMemory(valuesText: string): SidecarMemory {
  const sidecar = (
    parseDocument(valuesText).toJS() as {
      dapr?: {
        sidecar?: {
          resources?: { requests?: { memory?: string }; limits?: { memory?: string } };
          goMemLimit?: string;
          goGC?: string;
        };
      };
    }
  ).dapr?.sidecar;
  return {
    requestMi: mi(sidecar?.resources?.requests?.memory),
    limitMi: mi(sidecar?.resources?.limits?.memory),
    goMemLimit: String(sidecar?.goMemLimit),
    goGC: String(sidecar?.goGC),
  };
}

/**
 * values.yaml with every app's memory request, limit and heap set to the derived figures, comments
 * kept and formatted as the repository's prettier formats it (the yaml library pads flow maps and
 * sequences alike; prettier does not).
 */
export async function valuesWithDerivedMemory(
  valuesText: string,
  derived: Map<string, AppMemory>,
): Promise<string> {
  const doc = parseDocument(valuesText);
  for (const [name, memory] of derived) {
    doc.setIn(["apps", name, "resources", "requests", "memory"], `${memory.requestMi}Mi`);
    doc.setIn(["apps", name, "resources", "limits", "memory"], `${memory.limitMi}Mi`);
    if (memory.heapMb !== undefined) doc.setIn(["apps", name, "heapMb"], memory.heapMb);
  }
  // Loaded here, not at the top: bench:mesh imports this module for the figures' type and path.
  const { format, resolveConfig } = await import("prettier");
  const options = (await resolveConfig(VALUES_FILE)) ?? {};
  return format(doc.toString({ lineWidth: 0 }), { ...options, parser: "yaml" });
}

const TABLE_START = "<!-- memory-table:start (generated by `npx tsx scripts/chart-sizing.ts --write`) -->";
const TABLE_END = "<!-- memory-table:end -->";

const mb = (value: number | undefined) => (value === undefined ? "—" : `${Math.round(value)}`);

/** The README's table: the chart's figures next to the measured ones they come from. */
export function memoryTable(
  figures: MeshMemoryFigures,
  derived: Map<string, AppMemory>,
  sidecar: SidecarMemory,
): string {
  const rows = [
    "| app | memory request / limit (V8 heap) | RSS idle (PSS), MB | RSS loaded, MB | its daprd: RSS idle (PSS) / loaded, MB |",
    "|---|---|---|---|---|",
  ];
  for (const [name, memory] of derived) {
    const app = figures.processes[name];
    const sidecar = figures.processes[`${name}.daprd`];
    rows.push(
      `| ${name} | ${memory.requestMi}Mi / ${memory.limitMi}Mi${memory.heapMb === undefined ? "" : ` (${memory.heapMb} MB)`} | ` +
        `${mb(app?.idleRssMb)} (${mb(app?.idlePssMb)}) | ${mb(app?.loadedRssMb)} | ` +
        `${sidecar ? `${mb(sidecar.idleRssMb)} (${mb(sidecar.idlePssMb)}) / ${mb(sidecar.loadedRssMb)}` : "—"} |`,
    );
  }
  const sidecars = Object.entries(figures.processes)
    .filter(([name]) => name.endsWith(".daprd"))
    .map(([, p]) => p);
  const range = (values: number[]) => `${mb(Math.min(...values))}–${mb(Math.max(...values))}`;
  rows.push(
    `| each daprd sidecar (annotations; not derived, see below) | ${sidecar.requestMi}Mi / ${sidecar.limitMi}Mi ` +
      `(GOMEMLIMIT ${sidecar.goMemLimit}, GOGC ${sidecar.goGC}) | ${range(sidecars.map((p) => p.idleRssMb))} ` +
      `(${range(sidecars.map((p) => p.idlePssMb))}) | ${range(sidecars.map((p) => p.loadedRssMb))} | |`,
  );
  const total = (key: "idleRssMb" | "idlePssMb") =>
    Object.values(figures.processes).reduce((sum, p) => sum + p[key], 0);
  return [
    TABLE_START,
    ...rows,
    "",
    `Measured ${figures.measuredAt.slice(0, 16).replace("T", " ")} UTC at commit \`${figures.commit}\` with ` +
      `\`${figures.command}\` (loaded: ${figures.load.clients} clients for ${figures.load.seconds} s, ` +
      `${figures.load.requests} requests, ${figures.load.errors} errors). Whole mesh idle, every process: ` +
      `**${Math.round(total("idleRssMb")).toLocaleString("en")} MB RSS, ${Math.round(total("idlePssMb")).toLocaleString("en")} MB PSS**; ` +
      `cold start to ready **${figures.coldStartS} s**.`,
    TABLE_END,
  ].join("\n");
}

/** README text with the table between its markers replaced; fails if the markers are missing. */
export function readmeWithTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${TABLE_START} … ${TABLE_END}`);
  return readme.slice(0, start) + table + readme.slice(end + TABLE_END.length);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = readMeshMemory();
  const derived = derivedMemoryOfApps(figures);
  const values = readFileSync(VALUES_FILE, "utf8");
  const table = memoryTable(figures, derived, chartSidecarMemory(values));
  if (process.argv.includes("--write")) {
    writeFileSync(VALUES_FILE, await valuesWithDerivedMemory(values, derived));
    writeFileSync(README_FILE, readmeWithTable(readFileSync(README_FILE, "utf8"), table));
    console.log("charts/lsp/values.yaml and README.md updated from bench/results/mesh-memory.json");
  } else {
    console.log(table);
  }
}
