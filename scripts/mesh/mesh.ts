import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  bootstrapDatabase,
  DATABASE,
  DB_SERVICES,
  FLAGS_READER,
  migrationDatabaseUrl,
  serviceDatabaseUrl,
  startPostgres,
  startRedis,
} from "./infra.js";
import { allowedInvocations, graphqlCallees, loadAccess } from "./access.js";
import {
  daprBinDir,
  renderComponents,
  startPlacement,
  startScheduler,
  startSentry,
  startSidecar,
  type AppTokens,
} from "./dapr-runtime.js";
import { devSinksServer } from "./dev-sinks.js";
import { devSecrets, merchantSecrets } from "./dev-secrets.js";
import { APPS, allPorts, portPlan, type AppName, type PortPlan } from "./ports.js";
import {
  MeshError,
  httpOk,
  portInUse,
  startProcess,
  stopProcess,
  waitFor,
  type Managed,
} from "./processes.js";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface MeshOptions {
  /** First port of the mesh (see ports.ts). */
  portBase: number;
  /** State lives in .lsp/<name>/ (PostgreSQL, Redis, scheduler, logs). */
  name: string;
  /** Wipe the state directory first (tests). */
  fresh?: boolean;
  /** Load the demo tenants, locations and menus. */
  demoData?: boolean;
  /** OTLP endpoint base (http://host:4318) for apps; its gRPC twin (host:4317) for sidecars. */
  otlpHttpEndpoint?: string;
  otlpGrpcEndpoint?: string;
  logLevel?: string;
  /** Which apps to run (default: all). The others' calls fail as they would in production. */
  apps?: readonly AppName[];
  onProgress?: (message: string) => void;
}

export interface Mesh {
  plan: PortPlan;
  runDir: string;
  logDir: string;
  edgeUrl: string;
  /** DEV ONLY sinks of the sms and push bindings (scripts/mesh/dev-sinks.ts). */
  devSinksUrl: string;
  /**
   * This run's tokens (operators and the test harness only): an app's `daprApiToken` lets a
   * caller use that app's sidecar as the app would, its `appApiToken` call the app as its sidecar.
   */
  tokens: Record<AppName, AppTokens>;
  logs: Record<string, string>;
  /** Every process the mesh started that still runs (each leads its own process group). */
  processes: () => { name: string; pid: number }[];
  /** Kills one app's process (its sidecar stays up): how the rest copes with it being down. */
  killApp: (app: AppName) => Promise<void>;
  /** Starts a killed app again, same command and environment; resolves once it is ready. */
  restartApp: (app: AppName) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * V8 settings of every Node app, as in the chart (values.yaml `nodeFlags`): V8's defaults. Small
 * semi-spaces with memory-over-speed heuristics (`--max-semi-space-size=1 --optimize-for-size`)
 * saved about 50 MB of idle RSS per app but cost a third of the edge's executed-query throughput
 * (bench:edge (b) 274 → 185 req/s, (d) 336 → 222, same quiet machine): not worth it on the hot
 * path. LSP_NODE_FLAGS sets other flags (measuring).
 */
const NODE_APP_FLAGS = (process.env.LSP_NODE_FLAGS ?? "").split(" ").filter(Boolean);

function appCommand(app: AppName): { command: string; args: string[]; cwd: string } {
  const cwd = path.join(REPO, "services", app);
  if (app === "ai") {
    const python = path.join(cwd, ".venv", "bin", "python");
    if (!existsSync(python))
      throw new MeshError("the ai service's Python environment is missing: run `npm run setup`");
    return { command: python, args: ["-m", "lsp_ai"], cwd };
  }
  // The compiled app, as in its image: `buildApps` brought dist/ up to date with the sources.
  return {
    command: process.execPath,
    args: [...NODE_APP_FLAGS, "--import", "@lsp/service-kit/telemetry", "dist/src/main.js"],
    cwd,
  };
}

/**
 * Compiles every package and service to its dist/ (`tsc -b tsconfig.build.json`): incremental,
 * so it takes about a second when nothing changed, and a stale build is never started. A type
 * error stops the launch with tsc's own message.
 */
async function buildApps(): Promise<void> {
  const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
  if (!existsSync(tsc)) throw new MeshError("npm packages are missing: run `npm run setup`");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-b", "tsconfig.build.json"], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new MeshError(`the TypeScript build failed (tsc -b tsconfig.build.json):\n${stdout}${stderr}`);
  }
}

/** The apps whose schemas service-kit migrates (ai's tables are made by its Dapr state store). */
function migratingApps(apps: readonly AppName[]): AppName[] {
  return apps.filter((a) => (DB_SERVICES as readonly string[]).includes(a) && a !== "ai");
}

/**
 * Starts one app's migrate step: its own entry point with LSP_MIGRATE_ONLY=1 and the schema
 * owner's URL, as the pod's init container does in the cluster.
 */
function startMigrateStep(app: AppName, postgresPort: number, logDir: string, logLevel: string): Managed {
  const { command, args, cwd } = appCommand(app);
  // No telemetry preload: the step exits before it would export anything.
  const telemetry = args.indexOf("@lsp/service-kit/telemetry");
  return startProcess(
    `${app}.migrate`,
    command,
    telemetry > 0 ? [...args.slice(0, telemetry - 1), ...args.slice(telemetry + 1)] : args,
    {
      cwd,
      env: {
        SERVICE_NAME: app,
        LOG_LEVEL: logLevel,
        LSP_MIGRATE_ONLY: "1",
        DATABASE_MIGRATION_URL: migrationDatabaseUrl(postgresPort, app),
        DATABASE_URL: undefined,
      },
      logDir,
    },
  );
}

/** Resolves once the migrate step exited 0; a failure names its log. */
async function migrateStepDone(app: AppName, proc: Managed): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">(
    (resolve) => (timer = setTimeout(() => resolve("timeout"), 120_000)),
  );
  const code = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (code === "timeout") {
    await stopProcess(proc, 0);
    throw new MeshError(`${app}'s migrate step did not finish in 120s; read ${proc.logFile}`);
  }
  if (code !== 0)
    throw new MeshError(`${app}'s migrate step failed (exit code ${code}); read ${proc.logFile}`);
}

/** Brings the whole mesh up and returns once every app and sidecar is ready. */
export async function startMesh(opts: MeshOptions): Promise<Mesh> {
  const say = opts.onProgress ?? (() => undefined);
  const began = Date.now();
  /** Seconds since the launch began, for the progress lines (where cold start goes). */
  const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1)}s`;
  const plan = portPlan(opts.portBase);
  const runDir = path.join(REPO, ".lsp", opts.name);
  const logDir = path.join(runDir, "logs");
  // Tiers stop in reverse order (apps and sidecars, then the control plane, then the data
  // stores); the processes of one tier stop in parallel.
  const tiers: Managed[][] = [];
  /** In-process servers of the launcher, closed once the apps are gone. */
  const closers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const tier of tiers.reverse()) await Promise.all(tier.map((p) => stopProcess(p)));
    tiers.length = 0;
    await Promise.all(closers.splice(0).map((close) => close()));
  };

  try {
    const bin = daprBinDir(REPO);
    const busy: string[] = [];
    for (const { port, owner } of allPorts(plan)) if (await portInUse(port)) busy.push(`${port} (${owner})`);
    if (busy.length) {
      throw new MeshError(
        `ports busy: ${busy.join(", ")}. Is another mesh running? Choose another base with LSP_PORT_BASE.`,
      );
    }
    if (opts.fresh) rmSync(runDir, { recursive: true, force: true });
    mkdirSync(logDir, { recursive: true });
    say(`state in ${path.relative(REPO, runDir)}/, logs in ${path.relative(REPO, logDir)}/`);

    // The build runs while the data stores start; the migrate steps are the first to need it.
    say("compiling TypeScript to dist/ (tsc -b, incremental)…");
    const built = buildApps().then(() => say(`  ✓ compiled at ${elapsed()}`));
    built.catch(() => undefined); // awaited below; until then a failure must not go unhandled
    say(`starting PostgreSQL on ${plan.postgres} and Redis on ${plan.redis}…`);
    const [postgres, redis] = await Promise.all([
      startPostgres(path.join(runDir, "postgres"), plan.postgres, logDir),
      startRedis(path.join(runDir, "redis"), plan.redis, logDir),
    ]);
    tiers.push([postgres, redis]);
    await bootstrapDatabase(plan.postgres);
    await built;

    // Each schema is migrated by a short process holding the owner's URL, in parallel with the
    // Dapr control plane's and the sidecars' start; each app starts once its own schema is
    // migrated (the apps themselves never receive that URL).
    const apps = opts.apps ?? APPS;
    const toMigrate = migratingApps(apps);
    say(`migrating ${toMigrate.length} schemas, each by its app's migrate step as the schema owner…`);
    const migrateTier: Managed[] = [];
    tiers.push(migrateTier);
    const migrated = new Map<AppName, Promise<void>>(
      toMigrate.map((app) => {
        const stepBegan = Date.now();
        const proc = startMigrateStep(app, plan.postgres, logDir, opts.logLevel ?? "info");
        migrateTier.push(proc);
        const done = migrateStepDone(app, proc).then(() =>
          say(
            `  ✓ ${app} schema migrated as own_${app} at ${elapsed()} (its step took ${((Date.now() - stepBegan) / 1000).toFixed(1)}s)`,
          ),
        );
        // Awaited below; until then a failure must not be an unhandled rejection.
        done.catch(() => undefined);
        return [app, done];
      }),
    );
    const schemaReady = (app: AppName) => migrated.get(app) ?? Promise.resolve();

    say(`starting Dapr Sentry (${plan.sentry.port}): the mesh's certificate authority for mTLS…`);
    const sentry = await startSentry(bin, plan, runDir, logDir);
    tiers.push([sentry.proc]);
    say(`starting Dapr placement (${plan.placement.port}) and scheduler (${plan.scheduler.port}) on mTLS…`);
    const [placement, scheduler] = await Promise.all([
      startPlacement(bin, plan, sentry.trust, logDir),
      startScheduler(bin, plan, sentry.trust, path.join(runDir, "scheduler"), logDir),
    ]);
    tiers.push([placement, scheduler]);
    say(`  ✓ Dapr control plane up at ${elapsed()}`);

    // The DEV ONLY sinks are a small HTTP server of the launcher itself (node built-ins only): a
    // process of their own would cost a whole Node runtime for a few routes.
    const devSinks = devSinksServer();
    await new Promise<void>((resolve, reject) => {
      devSinks.once("error", reject);
      devSinks.listen(plan.devSinks, "127.0.0.1", resolve);
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          devSinks.close(() => resolve());
          devSinks.closeAllConnections(); // the bindings' keep-alive connections would hold it open
        }),
    );
    const devSinksUrl = `http://127.0.0.1:${plan.devSinks}`;

    // Secrets only where they are used: the shared store's file (each sidecar may read only its
    // own keys of it, by access.yaml) and the merchant credentials' file (payments' store only).
    const secretsFile = path.join(runDir, "secrets.json");
    const merchantFile = path.join(runDir, "merchant-credentials.json");
    writeFileSync(secretsFile, JSON.stringify(devSecrets(plan, runDir), null, 2), { mode: 0o600 });
    writeFileSync(merchantFile, JSON.stringify(merchantSecrets(), null, 2), { mode: 0o600 });
    const access = loadAccess(REPO);
    const resources = renderComponents(
      REPO,
      runDir,
      {
        REDIS_ADDR: `127.0.0.1:${plan.redis}`,
        SECRETS_FILE: secretsFile,
        MERCHANT_SECRETS_FILE: merchantFile,
        NAME_RESOLUTION_DB: path.join(runDir, "nameresolution.db"),
        // The feature flags' configuration store reads auth's feature_flags as cfg_flags (infra.ts).
        FLAGS_CONNECTION_STRING: `host=127.0.0.1 port=${plan.postgres} user=${FLAGS_READER} dbname=${DATABASE} search_path=auth sslmode=disable`,
      },
      access,
      opts.otlpGrpcEndpoint,
    );
    // Fresh tokens for every run: app → its sidecar and sidecar → app, one pair per app.
    const token = () => randomBytes(32).toString("base64url");
    const tokens = Object.fromEntries(
      apps.map((app) => [app, { daprApiToken: token(), appApiToken: token() }]),
    ) as Record<AppName, AppTokens>;

    say(`starting ${apps.length} apps, each with its daprd sidecar…`);
    const logs: Record<string, string> = {};
    for (const proc of migrateTier) logs[proc.name] = proc.logFile;
    const waits: Promise<void>[] = [];
    const appTier: Managed[] = [];
    tiers.push(appTier);
    const launchers = new Map<AppName, () => Managed>();
    const running = new Map<AppName, Managed>();
    for (const app of apps) {
      const ports = plan.apps[app];
      const { command, args, cwd } = appCommand(app);
      const env: NodeJS.ProcessEnv = {
        SERVICE_NAME: app,
        OTEL_SERVICE_NAME: app,
        APP_PORT: String(ports.app),
        DAPR_HTTP_PORT: String(ports.daprHttp),
        DAPR_GRPC_PORT: String(ports.daprGrpc),
        DAPR_API_TOKEN: tokens[app].daprApiToken,
        LSP_ALLOWED_INVOCATIONS: allowedInvocations(access, app),
        APP_API_TOKEN: tokens[app].appApiToken,
        OPS_PORT: String(ports.ops),
        LOG_LEVEL: opts.logLevel ?? "info",
        PYTHONUNBUFFERED: "1",
        // The app serves as a role that owns nothing and only checks that its schema is
        // migrated; the owner's URL stays out of its environment, even one inherited from here.
        MIGRATE_ON_START: undefined,
        DATABASE_MIGRATION_URL: undefined,
        ...(toMigrate.includes(app) ? { DATABASE_URL: serviceDatabaseUrl(plan.postgres, app) } : {}),
        // The edge is ready once it has stitched the subschemas of the apps this mesh runs.
        ...(app === "edge"
          ? {
              EDGE_SUBSCHEMAS_REQUIRED: graphqlCallees(access, "edge")
                .filter((callee) => (apps as readonly string[]).includes(callee))
                .join(","),
            }
          : {}),
        ...(opts.otlpHttpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: opts.otlpHttpEndpoint } : {}),
      };
      launchers.set(app, () => startProcess(app, command, args, { cwd, env, logDir }));
      // The sidecar starts at once (certificate, components, placement) while the app waits for
      // its schema; it reports healthy once the app answers. Except for an app that loads the
      // feature flags' configuration store (`flags`): that component refuses to load before its
      // table exists, so its sidecar starts once auth's schema is migrated.
      const launchSidecar = () => {
        const started = startSidecar(bin, app, ports, plan, resources, sentry.trust, tokens[app], logDir);
        appTier.push(started);
        return started;
      };
      const sidecarStarted = access.apps[app]?.components?.includes("flags")
        ? schemaReady("auth").then(() => {
            if (stopping) throw new MeshError("the mesh is stopping");
            return launchSidecar();
          })
        : Promise.resolve(launchSidecar());
      logs[app] = path.join(logDir, `${app}.log`);
      logs[`${app}.daprd`] = path.join(logDir, `${app}.daprd.log`);
      waits.push(
        (async () => {
          const sidecar = await sidecarStarted;
          await schemaReady(app);
          // A failure elsewhere stopped the mesh while this schema was migrating: start nothing.
          if (stopping) throw new MeshError("the mesh is stopping");
          const proc = startProcess(app, command, args, { cwd, env, logDir });
          running.set(app, proc);
          appTier.push(proc);
          await waitFor(`${app} (app /readyz)`, () => httpOk(`http://127.0.0.1:${ports.ops}/readyz`), {
            timeoutMs: 120_000,
            process: proc,
          });
          await waitFor(
            `${app}'s daprd sidecar`,
            () => httpOk(`http://127.0.0.1:${ports.daprHttp}/v1.0/healthz`),
            {
              timeoutMs: 60_000,
              process: sidecar,
            },
          );
          say(
            `  ✓ ${app} ready at ${elapsed()} (app ${ports.app}, dapr http ${ports.daprHttp}, grpc ${ports.daprGrpc})`,
          );
        })(),
      );
    }
    // The demo data goes in as soon as auth's and sales' schemas are migrated, while the apps
    // start (no request reaches them before the mesh is ready).
    const seeded = Promise.all(
      (opts.demoData ? (["auth", "sales"] as const) : []).map(async (service) => {
        await schemaReady(service);
        try {
          await promisify(execFile)(
            process.execPath,
            ["dist/src/seed.js", path.join(REPO, "demo", "demo-data.json")],
            {
              cwd: path.join(REPO, "services", service),
              env: { ...process.env, DATABASE_URL: serviceDatabaseUrl(plan.postgres, service) },
            },
          );
        } catch (err) {
          const { stderr = "" } = err as { stderr?: string };
          throw new MeshError(`${service}'s demo data did not load: ${stderr || String(err)}`);
        }
      }),
    );
    seeded.catch(() => undefined); // awaited after the apps; until then not unhandled
    if (opts.demoData) say("loading demo tenants, locations and menus (once their schemas are migrated)…");
    await Promise.all(waits);
    await seeded;
    if (opts.demoData) say(`  ✓ demo data loaded (all ready at ${elapsed()})`);
    const edgeUrl = `http://localhost:${plan.apps.edge.app}/graphql`;
    await waitFor("edge GraphQL schema", () => httpOk(`http://127.0.0.1:${plan.apps.edge.ops}/readyz`), {
      timeoutMs: 30_000,
    });
    const processes = () =>
      tiers
        .flat()
        .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
        .flatMap((p) => (p.child.pid ? [{ name: p.name, pid: p.child.pid }] : []));
    const killApp = async (app: AppName) => {
      const proc = running.get(app);
      if (proc) await stopProcess(proc, 0);
    };
    const restartApp = async (app: AppName) => {
      const launch = launchers.get(app);
      if (!launch) throw new MeshError(`${app} is not part of this mesh`);
      const proc = launch();
      running.set(app, proc);
      appTier.push(proc);
      await waitFor(`${app} (app /readyz)`, () => httpOk(`http://127.0.0.1:${plan.apps[app].ops}/readyz`), {
        timeoutMs: 120_000,
        process: proc,
      });
    };
    return { plan, runDir, logDir, edgeUrl, devSinksUrl, tokens, logs, processes, killApp, restartApp, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
