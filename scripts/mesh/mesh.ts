import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
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
import { REPO } from "./repo.js";
import { BUNDLE_MAIN, BUNDLE_PRELOAD, bundleApps } from "../build-bundles.js";
import { allowedInvocations, graphqlCallees, loadAccess, type Access } from "./access.js";
import {
  daprBinDir,
  renderComponents,
  startPlacement,
  startScheduler,
  startSentry,
  startSidecar,
  type AppTokens,
  type RenderedResources,
  type TrustBundle,
} from "./dapr-runtime.js";
import { createFanoutGroups, dropFanoutGroups, fanoutTopics } from "./fanout.js";
import {
  createKafkaTopics,
  kafkaLibDir,
  pubsubEngine,
  startKafka,
  useKafkaPubsub,
  type PubsubEngine,
} from "./kafka.js";
import { Supervisor, type RestartEvent } from "./supervisor.js";
import { devSinksServer } from "./dev-sinks.js";
import { kafkaLagRegistry, readKafkaPartitions } from "./kafka-lag.js";
import { lagMetricsServer, streamMetricsServer } from "./stream-metrics.js";
import { devSecrets, merchantSecrets } from "./dev-secrets.js";
import {
  APPS,
  allPorts,
  portPlan,
  replicaPorts,
  SINGLE_REPLICAS,
  type AppName,
  type AppPorts,
  type PortPlan,
} from "./ports.js";
import {
  MeshError,
  httpOk,
  portInUse,
  startProcess,
  stopProcess,
  waitFor,
  type Managed,
} from "./processes.js";

/** Re-exported for the tools and tests that already import it from here. */
export { REPO };
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
  /** Replicas per app (LSP_REPLICAS; default one each), each with its own sidecar and ports. */
  replicas?: Partial<Record<AppName, number>>;
  /** The engine behind `pubsub` and `pubsub-fanout` (default: LSP_PUBSUB, else redis); see kafka.ts. */
  pubsub?: PubsubEngine;
  onProgress?: (message: string) => void;
  /** Each restart of a crashed process (also appended to logs/supervisor.log as JSON). */
  onRestart?: (event: RestartEvent) => void;
}

export interface Mesh {
  plan: PortPlan;
  runDir: string;
  logDir: string;
  /** `.lsp/<run>/mesh.json`: every process (app, replica, pid, ports, log file), kept current. */
  meshFile: string;
  /** The first edge replica's GraphQL URL (the others: `instances()`). */
  edgeUrl: string;
  /** DEV ONLY sinks of the sms and push bindings (scripts/mesh/dev-sinks.ts). */
  devSinksUrl: string;
  /**
   * This run's tokens (operators and the test harness only): an app's `daprApiToken` lets a
   * caller use that app's sidecar as the app would, its `appApiToken` call the app as its sidecar.
   */
  tokens: Record<AppName, AppTokens>;
  logs: Record<string, string>;
  /** Every replica of every app, with its ports. */
  instances: () => readonly AppInstance[];
  /** What mesh.json says: every supervised process now. */
  describe: () => MeshProcess[];
  /** Every process the mesh started that still runs (each leads its own process group). */
  processes: () => { name: string; pid: number }[];
  /** Kills one replica's app (its sidecar stays up) and keeps it down: how the rest copes. */
  killApp: (app: AppName, replica?: number) => Promise<void>;
  /** Starts a killed app again, same command and environment; resolves once it is ready. */
  restartApp: (app: AppName, replica?: number) => Promise<void>;
  /**
   * kill -9 of one supervised process's group by its mesh.json name (`sales-2`, `edge.daprd`,
   * `redis`, …); the supervisor restarts it. Resolves with the killed pid once it is gone.
   */
  crash: (name: string) => Promise<number>;
  /** Resolves once a replica's app answers /readyz. */
  ready: (app: AppName, replica?: number, timeoutMs?: number) => Promise<void>;
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

export function appCommand(app: AppName): { command: string; args: string[]; cwd: string } {
  const cwd = path.join(REPO, "services", app);
  if (app === "ai") {
    const python = path.join(cwd, ".venv", "bin", "python");
    if (!existsSync(python))
      throw new MeshError("the ai service's Python environment is missing: run `npm run setup`");
    return { command: python, args: ["-m", "lsp_ai"], cwd };
  }
  // The bundled app, as in its image: `buildApps` brought dist/ and dist/bundle/ up to date with
  // the sources. LSP_APP_FORM=compiled runs the unbundled dist/ instead (measuring).
  const form =
    process.env.LSP_APP_FORM === "compiled"
      ? ["--import", "@lsp/runtime/telemetry", "dist/src/main.js"]
      : ["--import", `./${BUNDLE_PRELOAD}`, BUNDLE_MAIN];
  return { command: process.execPath, args: [...NODE_APP_FLAGS, ...form], cwd };
}

/**
 * Compiles every package and service to its dist/ (`tsc -b tsconfig.build.json`), then bundles
 * each Node app (scripts/build-bundles.ts): both incremental, so it takes a second or two when
 * nothing changed, and a stale build is never started. A type error stops the launch with tsc's
 * own message.
 */
export async function buildApps(): Promise<void> {
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
  try {
    await bundleApps();
  } catch (err) {
    throw new MeshError(err instanceof Error ? err.message : String(err));
  }
}

/** The apps whose schemas @lsp/db migrates (ai's tables are made by its Dapr state store). */
export function migratingApps(apps: readonly AppName[]): AppName[] {
  return apps.filter((a) => (DB_SERVICES as readonly string[]).includes(a) && a !== "ai");
}

/**
 * Starts one app's migrate step: its own entry point with LSP_MIGRATE_ONLY=1 and the schema
 * owner's URL, as the pod's init container does in the cluster.
 */
export function startMigrateStep(
  app: AppName,
  postgresPort: number,
  logDir: string,
  logLevel: string,
): Managed {
  const { command, args, cwd } = appCommand(app);
  // No telemetry preload: the step exits before it would export anything.
  const preload = args.indexOf("--import");
  return startProcess(
    `${app}.migrate`,
    command,
    preload >= 0 ? [...args.slice(0, preload), ...args.slice(preload + 2)] : args,
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
export async function migrateStepDone(app: AppName, proc: Managed): Promise<void> {
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
/** What an app replica's environment is made of (the launcher's and `npm run dev`'s one source). */
export interface AppEnvironmentInputs {
  instance: AppInstance;
  tokens: AppTokens;
  access: Access;
  postgresPort: number;
  /** The apps of the mesh the replica joins (the edge waits for their subschemas). */
  meshApps: readonly AppName[];
  edgeReplicas: number;
  logLevel: string;
  otlpHttpEndpoint?: string | undefined;
}

/** The environment of one app replica, as the chart gives a pod. */
export function appEnvironment(i: AppEnvironmentInputs): NodeJS.ProcessEnv {
  const { app, ports } = i.instance;
  return {
    SERVICE_NAME: app,
    OTEL_SERVICE_NAME: app,
    // The replica's name, as a pod's HOSTNAME would be (logs, traces).
    HOSTNAME: i.instance.podName,
    APP_PORT: String(ports.app),
    DAPR_HTTP_PORT: String(ports.daprHttp),
    DAPR_GRPC_PORT: String(ports.daprGrpc),
    DAPR_API_TOKEN: i.tokens.daprApiToken,
    LSP_ALLOWED_INVOCATIONS: allowedInvocations(i.access, app),
    APP_API_TOKEN: i.tokens.appApiToken,
    OPS_PORT: String(ports.ops),
    LOG_LEVEL: i.logLevel,
    PYTHONUNBUFFERED: "1",
    // The app serves as a role that owns nothing and only checks that its schema is
    // migrated; the owner's URL stays out of its environment, even one inherited from here.
    MIGRATE_ON_START: undefined,
    DATABASE_MIGRATION_URL: undefined,
    ...(migratingApps([app]).length ? { DATABASE_URL: serviceDatabaseUrl(i.postgresPort, app) } : {}),
    // The edge is ready once it has stitched the subschemas of the apps this mesh runs.
    ...(app === "edge"
      ? {
          EDGE_SUBSCHEMAS_REQUIRED: graphqlCallees(i.access, "edge")
            .filter((callee) => (i.meshApps as readonly string[]).includes(callee))
            .join(","),
        }
      : {}),
    ...(i.otlpHttpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: i.otlpHttpEndpoint } : {}),
    // Several edge replicas count each caller's rate limit in one place (the cache store).
    ...(app === "edge" && i.edgeReplicas > 1
      ? { EDGE_RATE_LIMIT_STORE: process.env.EDGE_RATE_LIMIT_STORE ?? "shared" }
      : {}),
  };
}

/** The services whose demo rows (`demo/demo-data.json`) their own `dist/src/seed.js` loads. */
export const DEMO_SEEDED: readonly AppName[] = ["auth", "sales"];

/** Loads one service's demo rows as that service (idempotent: a second load adds nothing). */
export async function seedDemoData(service: AppName, postgresPort: number): Promise<void> {
  try {
    await promisify(execFile)(
      process.execPath,
      ["dist/src/seed.js", path.join(REPO, "demo", "demo-data.json")],
      {
        cwd: path.join(REPO, "services", service),
        env: { ...process.env, DATABASE_URL: serviceDatabaseUrl(postgresPort, service) },
      },
    );
  } catch (err) {
    const { stderr = "" } = err as { stderr?: string };
    throw new MeshError(`${service}'s demo data did not load: ${stderr || String(err)}`);
  }
}

/** What `npm run dev -- <app>` needs to join a running mesh as one more app (in mesh.json). */
export interface MeshJoinInfo {
  apps: readonly AppName[];
  demoData: boolean;
  logLevel: string;
  otlpHttpEndpoint?: string | undefined;
  resources: RenderedResources;
  trust: TrustBundle;
}

/** `.lsp/<run>/mesh.json`, as the launcher writes it. */
export interface MeshFile {
  run: string;
  portBase: number;
  launcherPid: number;
  replicas: Record<AppName, number>;
  join: MeshJoinInfo;
  processes: MeshProcess[];
}

/** What runs where: one line per process, written to `.lsp/<run>/mesh.json` (tools, tests, chaos). */
export interface MeshProcess {
  /** `sales` (first replica), `sales-2`, `sales-2.daprd`, `redis`, … (also its log's name). */
  name: string;
  role: "app" | "sidecar" | "postgres" | "redis" | "kafka" | "sentry" | "placement" | "scheduler";
  app?: AppName;
  replica?: number;
  /** Undefined while the process is down (between a crash and its restart). */
  pid: number | undefined;
  appPort?: number;
  opsPort?: number;
  sidecar?: { http: number; grpc: number; internalGrpc: number; metrics: number };
  logFile: string;
  /** Restarts by the supervisor since the launch. */
  restarts: number;
}

/** One replica of an app: where it listens and what its sidecar calls it. */
export interface AppInstance {
  app: AppName;
  replica: number;
  /** `edge` for the first replica (its logs keep their names), `edge-2` for the second, … */
  name: string;
  /** POD_NAME of its sidecar: the fan-out pub/sub's consumer group (components/local/pubsub.yaml). */
  podName: string;
  ports: AppPorts;
}

export function instanceName(app: AppName, replica: number): string {
  return replica === 1 ? app : `${app}-${replica}`;
}

interface Unit {
  name: string;
  role: MeshProcess["role"];
  instance?: AppInstance;
  logFile: string;
  sup: Supervisor<Managed>;
}

/**
 * How long an app may take to answer /readyz after its start (LSP_APP_READY_TIMEOUT_S, default
 * 120): two ai replicas warming their model libraries on a busy two-core machine took longer.
 */
const APP_READY_TIMEOUT_MS = Number(process.env.LSP_APP_READY_TIMEOUT_S ?? 120) * 1000;

/** Brings the whole mesh up and returns once every app and sidecar is ready. */
export async function startMesh(opts: MeshOptions): Promise<Mesh> {
  const say = opts.onProgress ?? (() => undefined);
  const began = Date.now();
  /** Seconds since the launch began, for the progress lines (where cold start goes). */
  const elapsed = () => `${((Date.now() - began) / 1000).toFixed(1)}s`;
  const replicas = { ...SINGLE_REPLICAS, ...opts.replicas };
  const plan = portPlan(opts.portBase, replicas);
  const engine = opts.pubsub ?? pubsubEngine(process.env.LSP_PUBSUB);
  const runDir = path.join(REPO, ".lsp", opts.name);
  const logDir = path.join(runDir, "logs");
  const meshFile = path.join(runDir, "mesh.json");
  const supervisorLog = path.join(logDir, "supervisor.log");
  // Tiers stop in reverse order (apps and sidecars, then the control plane, then the data
  // stores); the processes of one tier stop in parallel.
  const tiers: { stop: () => Promise<void> }[][] = [];
  /** In-process servers of the launcher, closed once the apps are gone. */
  const closers: (() => Promise<void>)[] = [];
  /** Every supervised process, in start order. */
  const units: Unit[] = [];
  let stopping = false;
  let announced = false;
  /** Set once the components are rendered; mesh.json is first written after that. */
  let join: MeshJoinInfo | undefined;
  const writeMeshFile = () => {
    if (!announced || stopping || !join) return;
    const tmp = `${meshFile}.tmp`;
    const file: MeshFile = {
      run: opts.name,
      portBase: plan.base,
      launcherPid: process.pid,
      replicas,
      join,
      processes: describe(),
    };
    writeFileSync(tmp, JSON.stringify(file, null, 2));
    renameSync(tmp, meshFile);
  };
  const onRestart = (event: RestartEvent) => {
    const line = JSON.stringify({ ...event, run: opts.name });
    appendFileSync(supervisorLog, `${line}\n`);
    opts.onRestart?.(event);
  };
  /** Starts `start` under a supervisor: a crash is restarted with back-off and logged. */
  const supervise = async (
    name: string,
    role: Unit["role"],
    start: () => Managed | Promise<Managed>,
    instance?: AppInstance,
  ): Promise<Unit> => {
    const sup = new Supervisor<Managed>({
      name,
      start,
      log: onRestart,
      onStarted: () => writeMeshFile(),
    });
    if (stopping) throw new MeshError("the mesh is stopping");
    const unit: Unit = { name, role, instance, logFile: path.join(logDir, `${name}.log`), sup };
    units.push(unit);
    await sup.start();
    // Started while the mesh was being stopped (after stop swept the units): stop it here.
    if (stopping) {
      await stopUnit(unit)();
      throw new MeshError("the mesh is stopping");
    }
    return unit;
  };
  const stopUnit = (u: Unit) => async () => {
    const proc = u.sup.release();
    if (proc) await stopProcess(proc);
  };
  const describe = (): MeshProcess[] =>
    units.map((u) => {
      const pid = u.sup.current()?.child.pid;
      const i = u.instance;
      return {
        name: u.name,
        role: u.role,
        ...(i ? { app: i.app, replica: i.replica, appPort: i.ports.app, opsPort: i.ports.ops } : {}),
        ...(i && u.role === "sidecar"
          ? {
              sidecar: {
                http: i.ports.daprHttp,
                grpc: i.ports.daprGrpc,
                internalGrpc: i.ports.daprInternalGrpc,
                metrics: i.ports.daprMetrics,
              },
            }
          : {}),
        pid,
        logFile: u.logFile,
        restarts: u.sup.restarts(),
      };
    });
  const stop = async () => {
    stopping = true;
    for (const tier of tiers.reverse()) await Promise.all(tier.map((u) => u.stop()));
    tiers.length = 0;
    // A unit whose start was under way when a failure stopped the mesh (a sidecar of a later
    // replica) is in no tier yet: every supervised unit still running is stopped too, or it would
    // outlive the mesh, restarted by its supervisor, and keep the caller's process alive.
    await Promise.all(units.map((u) => stopUnit(u)()));
    await Promise.all(closers.splice(0).map((close) => close()));
    rmSync(meshFile, { force: true });
  };

  try {
    const bin = daprBinDir(REPO);
    const kafkaLib = engine === "kafka" ? kafkaLibDir(REPO) : undefined;
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
    say("compiling TypeScript to dist/ and bundling each app (tsc -b, esbuild; incremental)…");
    const built = buildApps().then(() => say(`  ✓ compiled at ${elapsed()}`));
    built.catch(() => undefined); // awaited below; until then a failure must not go unhandled
    say(`starting PostgreSQL on ${plan.postgres} and Redis on ${plan.redis}…`);
    if (kafkaLib) say(`starting Kafka (KRaft, one node) on ${plan.kafka.broker} for pub/sub…`);
    const dataTier = await Promise.all([
      supervise("postgres", "postgres", () =>
        startPostgres(path.join(runDir, "postgres"), plan.postgres, logDir),
      ),
      supervise("redis", "redis", () => startRedis(path.join(runDir, "redis"), plan.redis, logDir)),
      ...(kafkaLib
        ? [
            supervise("kafka", "kafka", () =>
              startKafka(kafkaLib, path.join(runDir, "kafka"), plan.kafka, logDir),
            ),
          ]
        : []),
    ]);
    tiers.push(dataTier.map((u) => ({ stop: stopUnit(u) })));
    await bootstrapDatabase(plan.postgres);
    await built;

    // Each schema is migrated by a short process holding the owner's URL, in parallel with the
    // Dapr control plane's and the sidecars' start; each app starts once its own schema is
    // migrated (the apps themselves never receive that URL).
    const apps = opts.apps ?? APPS;
    const toMigrate = migratingApps(apps);
    say(`migrating ${toMigrate.length} schemas, each by its app's migrate step as the schema owner…`);
    const migrateTier: Managed[] = [];
    const migrateStops: { stop: () => Promise<void> }[] = [];
    tiers.push(migrateStops);
    const migrated = new Map<AppName, Promise<void>>(
      toMigrate.map((app) => {
        const stepBegan = Date.now();
        const proc = startMigrateStep(app, plan.postgres, logDir, opts.logLevel ?? "info");
        migrateTier.push(proc);
        migrateStops.push({ stop: () => stopProcess(proc) });
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
    let trust: TrustBundle | undefined;
    const sentry = await supervise("sentry", "sentry", async () => {
      const started = await startSentry(bin, plan, runDir, logDir);
      trust = started.trust;
      return started.proc;
    });
    tiers.push([{ stop: stopUnit(sentry) }]);
    const trustBundle = trust!;
    say(`starting Dapr placement (${plan.placement.port}) and scheduler (${plan.scheduler.port}) on mTLS…`);
    const controlPlane = await Promise.all([
      supervise("placement", "placement", () => startPlacement(bin, plan, trustBundle, logDir)),
      supervise("scheduler", "scheduler", () =>
        startScheduler(bin, plan, trustBundle, path.join(runDir, "scheduler"), logDir),
      ),
    ]);
    tiers.push(controlPlane.map((u) => ({ stop: stopUnit(u) })));
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
    // Consumer lag per topic and group, as the chart's exporter serves it (in-process, like the
    // sinks: it reads Redis, or the Kafka broker, on each scrape).
    const streamMetrics = kafkaLib
      ? lagMetricsServer(
          kafkaLagRegistry(() => readKafkaPartitions(REPO, kafkaLib, `127.0.0.1:${plan.kafka.broker}`)),
          "kafka",
        )
      : streamMetricsServer(plan.redis);
    await new Promise<void>((resolve, reject) => {
      streamMetrics.once("error", reject);
      streamMetrics.listen(plan.streamMetrics, "127.0.0.1", resolve);
    });
    closers.push(() => new Promise<void>((resolve) => streamMetrics.close(() => resolve())));

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
    if (kafkaLib) {
      const brokers = `127.0.0.1:${plan.kafka.broker}`;
      useKafkaPubsub(path.join(resources.resourcesDir, "pubsub.yaml"), brokers);
      createKafkaTopics(REPO, kafkaLib, brokers, access.topics);
    }
    join = {
      apps,
      demoData: opts.demoData ?? false,
      logLevel: opts.logLevel ?? "info",
      otlpHttpEndpoint: opts.otlpHttpEndpoint,
      resources,
      trust: trustBundle,
    };
    // Fresh tokens for every run: app → its sidecar and sidecar → app, one pair per app (shared
    // by its replicas, as a Kubernetes Secret is shared by a Deployment's pods).
    const token = () => randomBytes(32).toString("base64url");
    const tokens = Object.fromEntries(
      apps.map((app) => [app, { daprApiToken: token(), appApiToken: token() }]),
    ) as Record<AppName, AppTokens>;

    const instances: AppInstance[] = apps.flatMap((app) =>
      Array.from({ length: replicas[app] }, (_, i) => ({
        app,
        replica: i + 1,
        name: instanceName(app, i + 1),
        podName: `${app}-${i + 1}`,
        ports: replicaPorts(plan, app, i + 1),
      })),
    );
    // On Kafka a fan-out replica's group starts at the newest offset by itself (kafka.ts).
    const fanout = engine === "redis" ? fanoutTopics(access) : {};
    say(`starting ${apps.length} apps (${instances.length} replicas), each replica with its daprd sidecar…`);
    const logs: Record<string, string> = {};
    for (const proc of migrateTier) logs[proc.name] = proc.logFile;
    const waits: Promise<void>[] = [];
    const appTier: { stop: () => Promise<void> }[] = [];
    tiers.push(appTier);
    const appUnits = new Map<string, Unit>();
    const launchers = new Map<string, () => Managed>();
    for (const inst of instances) {
      const { app, ports } = inst;
      const { command, args, cwd } = appCommand(app);
      const env = appEnvironment({
        instance: inst,
        tokens: tokens[app],
        access,
        postgresPort: plan.postgres,
        meshApps: apps,
        edgeReplicas: replicas.edge,
        logLevel: opts.logLevel ?? "info",
        otlpHttpEndpoint: opts.otlpHttpEndpoint,
      });
      const launch = () => startProcess(inst.name, command, args, { cwd, env, logDir });
      launchers.set(inst.name, launch);
      // A fan-out replica reads its topics from "now": its consumer groups are made at the
      // streams' ends before its sidecar first subscribes (Dapr would make them at the start).
      if (fanout[app]?.length) await createFanoutGroups(plan.redis, app, inst.podName, fanout[app]);
      // The sidecar starts at once (certificate, components, placement) while the app waits for
      // its schema; it reports healthy once the app answers. Except for an app that loads the
      // feature flags' configuration store (`flags`): that component refuses to load before its
      // table exists, so its sidecar starts once auth's schema is migrated.
      const launchSidecar = async () => {
        const sidecar = await supervise(
          `${inst.name}.daprd`,
          "sidecar",
          () =>
            startSidecar(
              bin,
              app,
              ports,
              plan,
              resources,
              trustBundle,
              tokens[app],
              logDir,
              { instance: inst.name, podName: inst.podName },
              engine,
            ),
          inst,
        );
        appTier.push({
          stop: async () => {
            await stopUnit(sidecar)();
            // The replica is gone: so are its consumer groups (nobody would ever read them).
            if (fanout[app]?.length)
              await dropFanoutGroups(plan.redis, inst.podName, fanout[app]).catch(() => undefined);
          },
        });
        return sidecar;
      };
      const sidecarStarted = access.apps[app]?.components?.includes("flags")
        ? schemaReady("auth").then(() => {
            if (stopping) throw new MeshError("the mesh is stopping");
            return launchSidecar();
          })
        : launchSidecar();
      logs[inst.name] = path.join(logDir, `${inst.name}.log`);
      logs[`${inst.name}.daprd`] = path.join(logDir, `${inst.name}.daprd.log`);
      const ready = (async () => {
        const sidecar = await sidecarStarted;
        await schemaReady(app);
        // A failure elsewhere stopped the mesh while this schema was migrating: start nothing.
        if (stopping) throw new MeshError("the mesh is stopping");
        const unit = await supervise(inst.name, "app", launch, inst);
        appUnits.set(inst.name, unit);
        appTier.push({ stop: stopUnit(unit) });
        await waitFor(`${inst.name} (app /readyz)`, () => httpOk(`http://127.0.0.1:${ports.ops}/readyz`), {
          timeoutMs: APP_READY_TIMEOUT_MS,
          process: unit.sup.current(),
        });
        await waitFor(
          `${inst.name}'s daprd sidecar`,
          () => httpOk(`http://127.0.0.1:${ports.daprHttp}/v1.0/healthz`),
          { timeoutMs: APP_READY_TIMEOUT_MS, process: sidecar.sup.current() },
        );
        say(
          `  ✓ ${inst.name} ready at ${elapsed()} (app ${ports.app}, dapr http ${ports.daprHttp}, grpc ${ports.daprGrpc})`,
        );
      })();
      ready.catch(() => undefined); // awaited below; a failure of a later replica's start must not leave it unhandled
      waits.push(ready);
    }
    // The demo data goes in as soon as auth's and sales' schemas are migrated, while the apps
    // start (no request reaches them before the mesh is ready).
    // Only the services this mesh runs (and so migrates): `npm run dev -- sales` loads sales'
    // rows when it joins a mesh started without it.
    const seeded = Promise.all(
      (opts.demoData ? DEMO_SEEDED.filter((s) => toMigrate.includes(s)) : []).map(async (service) => {
        await schemaReady(service);
        await seedDemoData(service, plan.postgres);
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
      [...units.map((u) => u.sup.current()), ...migrateTier]
        .filter((p): p is Managed => p !== undefined)
        .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
        .flatMap((p) => (p.child.pid ? [{ name: p.name, pid: p.child.pid }] : []));
    const unitOf = (app: AppName, replica: number) => {
      const unit = appUnits.get(instanceName(app, replica));
      if (!unit) throw new MeshError(`${instanceName(app, replica)} is not part of this mesh`);
      return unit;
    };
    const ready = async (app: AppName, replica = 1, timeoutMs = APP_READY_TIMEOUT_MS) => {
      const ports = replicaPorts(plan, app, replica);
      await waitFor(
        `${instanceName(app, replica)} (app /readyz)`,
        () => httpOk(`http://127.0.0.1:${ports.ops}/readyz`),
        { timeoutMs },
      );
    };
    const killApp = async (app: AppName, replica = 1) => {
      // Killed on purpose: not restarted until restartApp (a test of how the rest copes).
      const proc = unitOf(app, replica).sup.release();
      if (proc) await stopProcess(proc, 0);
      writeMeshFile();
    };
    const restartApp = async (app: AppName, replica = 1) => {
      const unit = unitOf(app, replica);
      const proc = await unit.sup.start();
      await waitFor(
        `${unit.name} (app /readyz)`,
        () => httpOk(`http://127.0.0.1:${replicaPorts(plan, app, replica).ops}/readyz`),
        { timeoutMs: APP_READY_TIMEOUT_MS, process: proc },
      );
    };
    const crash = async (name: string) => {
      const unit = units.find((u) => u.name === name);
      if (!unit) throw new MeshError(`no process ${name} in this mesh (see ${meshFile})`);
      const proc = unit.sup.current();
      const pid = proc?.child.pid;
      if (!proc || pid === undefined) throw new MeshError(`${name} is not running`);
      // The whole process group, as a container's processes die with it; the supervisor restarts it.
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        /* already gone */
      }
      await proc.exited;
      return pid;
    };
    announced = true;
    writeMeshFile();
    say(`processes, ports and logs of every replica: ${path.relative(REPO, meshFile)}`);
    return {
      plan,
      runDir,
      logDir,
      meshFile,
      edgeUrl,
      devSinksUrl,
      tokens,
      logs,
      instances: () => instances,
      describe,
      processes,
      killApp,
      restartApp,
      crash,
      ready,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
