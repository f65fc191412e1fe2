/**
 * Bundles each Node app: services/<app>/dist/bundle/src/main.mjs (its code and dependencies, with
 * shared chunks in chunks/), its migrations (migrations/*.mjs) and its telemetry preload
 * (telemetry.mjs): what the launcher, the image and CI run
 * (`node --import ./dist/bundle/telemetry.mjs dist/bundle/src/main.mjs`).
 * Why: unbundled, an app resolves and loads about a thousand files one by one (the workspace
 * packages, Yoga, Kysely, zod, the OpenTelemetry SDK); bundled, it starts on about a fifth of the
 * CPU and holds less memory (bench/app-start.ts measures both forms side by side).
 *
 * Input is tsc's output (dist/, `tsc -b tsconfig.build.json` first: tsc stays the compiler and the
 * type gate); esbuild follows its source maps, so the bundle's map (`.mjs.map`, beside it and in
 * the image) leads from a bundle line back to the .ts line. The apps run without
 * `--enable-source-maps`: with it, each app held 50–75 MB more idle RSS in the mesh (bench:mesh, quiet,
 * 2026-11-30: Node apps 101–105 MB without, 151–171 MB with; the edge 151 against 229), and only
 * about 11 MB more when started alone to its configuration check: most likely the decoded map
 * (3 MB of JSON per bundle) Node builds once stack traces are formatted (not measured). A stack
 * trace names bundle lines (readable: the bundle is not minified); for .ts lines, run with
 * `NODE_OPTIONS=--enable-source-maps` or map the lines offline.
 *
 * Kept out of the bundle and loaded with require(), so that OpenTelemetry's require hooks patch
 * them (no ESM loader hook, no loader thread): the packages the instrumentations hook
 * (INSTRUMENTED) and pg's companions.
 *
 *   npx tsx scripts/build-bundles.ts [app…]     (default: every Node app of apps.yaml)
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import * as esbuild from "esbuild";
import { loadAppManifest, REPO } from "./app-manifest.js";

/**
 * The modules the preload's instrumentations hook (packages/runtime/src/telemetry-sdk.ts): express
 * and pg (pg-pool is pg's own require). node:http is a built-in, patched on its first require
 * (express's); undici's fetch is traced through diagnostics channels, nothing to patch.
 */
export const INSTRUMENTED = ["express", "pg"] as const;

/**
 * Loaded with require() as well, as packages: the instrumented ones and pg's companions, which
 * load pg's own lib/ files (bundled, they would carry a second copy of pg's defaults and utils).
 */
const REQUIRED = [...INSTRUMENTED, "pg-cursor", "pg-query-stream"];

/** The bundles of one app, relative to services/<app>. */
export const BUNDLE_DIR = "dist/bundle";
export const BUNDLE_MAIN = `${BUNDLE_DIR}/src/main.mjs`;
export const BUNDLE_PRELOAD = `${BUNDLE_DIR}/telemetry.mjs`;

/** Thrown when a bundle cannot be built; the message is esbuild's or names what is missing. */
export class BundleError extends Error {
  override name = "BundleError";
}

/**
 * A REQUIRED package (or a file of it) seen from the bundle becomes
 * `module.exports = require("<name>")`: the real package, loaded by Node's CommonJS loader where require-in-the-middle sees it. (esbuild's
 * plain `external` would keep an ESM `import`, which only the ESM loader hook could patch.)
 */
const loadWithRequire: esbuild.Plugin = {
  name: "required-packages",
  setup(build) {
    const filter = new RegExp(`^(?:${REQUIRED.join("|")})(?:/.*)?$`);
    build.onResolve({ filter }, (args) =>
      args.namespace === "required"
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "required" },
    );
    build.onLoad({ filter: /.*/, namespace: "required" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

/**
 * A workspace module's `import.meta.url`, `.filename` and `.dirname` stay its own, as if it were
 * not bundled: an app's dist/<path> is seen at dist/bundle/<path> (dist/src/main.js at
 * dist/bundle/src/main.mjs, so `import.meta.dirname/../migrations` is the bundled migrations), a
 * package's module where it is; relative to the output file's URL, so the bundle can move. Without
 * this each would be the output file's: `import.meta.url === \`file://${process.argv[1]}\`` (a module
 * that is also a CLI, e.g. services/dashboard/src/rebuild.ts) would run its CLI inside the app.
 * `fromDir` is where the output files are: every output of one build at the same depth.
 */
function ownImportMeta(appDist: string, fromDir: string): esbuild.Plugin {
  return {
    name: "own-import-meta",
    setup(build) {
      const workspaceDist = /[\\/](?:services|packages)[\\/][^\\/]+[\\/]dist[\\/].*\.js$/;
      build.onLoad({ filter: workspaceDist }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const text = await readFile(args.path, "utf8");
        if (!text.includes("import.meta")) return undefined;
        const inApp = path.relative(appDist, args.path);
        const seenAt =
          inApp.startsWith("..") || path.isAbsolute(inApp) ? args.path : path.join(appDist, "bundle", inApp);
        const rel = JSON.stringify(path.relative(fromDir, seenAt).split(path.sep).join("/"));
        const url = `new URL(${rel}, import.meta.url)`;
        return {
          contents: text
            .replaceAll("import.meta.url", `${url}.href`)
            .replaceAll("import.meta.filename", `__lspFileURLToPath(${url})`)
            .replaceAll("import.meta.dirname", `__lspDirname(__lspFileURLToPath(${url}))`),
          loader: "js",
        };
      });
    },
  };
}

/**
 * `require` for the CommonJS code inside an ESM bundle (built-ins, the instrumented packages):
 * Node's own, so that its loader and the require hooks see those requires.
 */
const BANNER = [
  'import { createRequire as __lspCreateRequire } from "node:module";',
  'import { dirname as __lspDirname } from "node:path";',
  'import { fileURLToPath as __lspFileURLToPath } from "node:url";',
  "const require = __lspCreateRequire(import.meta.url);",
].join("\n");

const COMMON: esbuild.BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // package.json "exports": the compiled dist/ of the workspace packages, Node's own conditions.
  conditions: ["node", "import", "default"],
  mainFields: ["module", "main"],
  outExtension: { ".js": ".mjs" },
  sourcemap: "linked",
  // The sources stay out of the map (a bundle's map with them is ~3× the size); the paths are
  // enough for a stack trace.
  sourcesContent: false,
  legalComments: "none",
  banner: { js: BANNER },
  logLevel: "silent",
  metafile: true,
};

async function build(what: string, options: esbuild.BuildOptions): Promise<esbuild.Metafile> {
  try {
    const result = await esbuild.build(options);
    for (const w of result.warnings)
      // A require esbuild cannot follow would fail at run time: make it a build error.
      if (w.id === "unsupported-require-call" || w.id === "unsupported-dynamic-import")
        throw new BundleError(`${what}: ${w.text} (${w.location?.file ?? "?"})`);
    if (!result.metafile) throw new BundleError(`${what}: esbuild gave no metafile`);
    return result.metafile;
  } catch (err) {
    if (err instanceof BundleError) throw err;
    const failure = err as esbuild.BuildFailure;
    const text = (failure.errors ?? []).map((e) => `${e.location?.file ?? ""}: ${e.text}`).join("\n");
    throw new BundleError(`bundling ${what} failed:\n${text || String(err)}`);
  }
}

/** What an app's bundles were built from (relative to the repository), beside them. */
const INPUTS_FILE = `${BUNDLE_DIR}/inputs.json`;

/**
 * True when both bundles exist and are newer than every file they were built from (the launcher
 * builds before each start: nothing to do when nothing changed).
 */
async function upToDate(dir: string): Promise<boolean> {
  try {
    const inputs = JSON.parse(await readFile(path.join(dir, INPUTS_FILE), "utf8")) as string[];
    const built = Math.min(
      ...(await Promise.all(
        [BUNDLE_MAIN, BUNDLE_PRELOAD].map(async (f) => (await stat(path.join(dir, f))).mtimeMs),
      )),
    );
    const times = await Promise.all(inputs.map(async (f) => (await stat(path.join(REPO, f))).mtimeMs));
    return times.every((t) => t < built);
  } catch {
    return false; // not built yet, or an input is gone
  }
}

/**
 * Bundles one app and its preload unless they are up to date; returns the size in bytes of what
 * it built (the app, its chunks and migrations; 0 when it was up to date). The app's entry and its migrations (dist/migrations/*.js, which the migrate step imports
 * by path) are one build with shared chunks, so that a migration uses the app's own Kysely and
 * @lsp/db rather than loading a second copy of them from dist/.
 */
export async function bundleApp(app: string): Promise<number> {
  const dir = path.join(REPO, "services", app);
  const dist = path.join(dir, "dist");
  const main = path.join(dist, "src", "main.js");
  const preload = path.join(REPO, "packages", "runtime", "dist", "telemetry-bundled.js");
  for (const entry of [main, preload])
    if (!existsSync(entry))
      throw new BundleError(`${path.relative(REPO, entry)} is missing: run tsc -b first`);
  if (await upToDate(dir)) return 0;
  await rm(path.join(dir, BUNDLE_DIR), { recursive: true, force: true });
  const migrationsDir = path.join(dist, "migrations");
  const migrations = existsSync(migrationsDir)
    ? (await readdir(migrationsDir)).filter((f) => f.endsWith(".js")).map((f) => path.join(migrationsDir, f))
    : [];
  const bundleDir = path.join(dir, BUNDLE_DIR);
  const metas = await Promise.all([
    build(`services/${app}`, {
      ...COMMON,
      entryPoints: [main, ...migrations],
      outbase: dist,
      outdir: bundleDir,
      splitting: true,
      // Every output one folder deep (src/, migrations/, chunks/): see ownImportMeta.
      chunkNames: "chunks/[name]-[hash]",
      plugins: [loadWithRequire, ownImportMeta(dist, path.join(bundleDir, "src"))],
    }),
    build(`${app}'s telemetry preload`, {
      ...COMMON,
      entryPoints: [preload],
      outfile: path.join(dir, BUNDLE_PRELOAD),
      plugins: [loadWithRequire, ownImportMeta(dist, bundleDir)],
    }),
  ]);
  // esbuild names inputs relative to its working directory (this process's).
  const inputs = new Set(
    metas.flatMap((m) =>
      Object.keys(m.inputs)
        .filter((f) => !f.includes(":"))
        .map((f) => path.relative(REPO, path.resolve(f))),
    ),
  );
  await writeFile(path.join(dir, INPUTS_FILE), JSON.stringify([...inputs]));
  return bundleBytes(metas[0]);
}

/** The bytes of JavaScript a build wrote (its source maps left out). */
function bundleBytes(meta: esbuild.Metafile): number {
  return Object.entries(meta.outputs)
    .filter(([file]) => !file.endsWith(".map"))
    .reduce((sum, [, o]) => sum + o.bytes, 0);
}

/** The Node apps of apps.yaml. */
export function nodeApps(): string[] {
  return loadAppManifest()
    .apps.filter((a) => a.runtime === "node")
    .map((a) => a.name);
}

/** Bundles the given apps (every Node app by default). */
export async function bundleApps(apps: readonly string[] = nodeApps()): Promise<void> {
  await Promise.all(apps.map((app) => bundleOnce(app)));
}

/**
 * One build of an app at a time in this process: meshes started together (a test's, a bench's)
 * wait for the build in flight instead of deleting its output under it.
 */
const inFlight = new Map<string, Promise<number>>();
function bundleOnce(app: string): Promise<number> {
  const running = inFlight.get(app);
  if (running) return running;
  const build = bundleApp(app).finally(() => inFlight.delete(app));
  inFlight.set(app, build);
  return build;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const wanted = process.argv.slice(2);
  const known = nodeApps();
  const unknown = wanted.filter((a) => !known.includes(a));
  if (unknown.length > 0) {
    console.error(`not a Node app: ${unknown.join(", ")} (apps: ${known.join(", ")})`);
    process.exit(2);
  }
  try {
    for (const app of wanted.length > 0 ? wanted : known) {
      const bytes = await bundleApp(app);
      console.log(
        bytes > 0
          ? `${app}: ${BUNDLE_DIR}/ ${(bytes / 1024 / 1024).toFixed(1)} MiB of JavaScript`
          : `${app}: ${BUNDLE_DIR}/ up to date`,
      );
    }
  } catch (err) {
    console.error(err instanceof BundleError ? err.message : err);
    process.exit(1);
  } finally {
    await esbuild.stop();
  }
}
