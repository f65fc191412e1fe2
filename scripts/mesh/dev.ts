// `npm run dev -- <app>`: one app and its sidecar, joining a mesh that runs without it.
//
//   LSP_APPS=edge,auth,dashboard,payments,notifications,ai npm start   # terminal 1: the mesh without sales
//   npm run dev -- sales                                               # terminal 2: sales, restarted on every change
//
// The app gets the ports, environment, components, trust bundle and access control the launcher
// would give it (the same functions, fed by the mesh's `.lsp/<run>/mesh.json`), its own fresh
// token pair, and its schema migrated as the owner first. A TypeScript app runs from its sources
// with `tsx watch` (its package's `dev` script); ai runs as in the mesh. The edge stitches the
// app's subschema as soon as it answers. Ctrl-C stops the app and its sidecar; the mesh stays.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadAccess } from "./access.js";
import { daprBinDir, startSidecar } from "./dapr-runtime.js";
import { createFanoutGroups, dropFanoutGroups, fanoutTopics } from "./fanout.js";
import {
  appCommand,
  appEnvironment,
  buildApps,
  DEMO_SEEDED,
  instanceName,
  migratingApps,
  migrateStepDone,
  REPO,
  seedDemoData,
  startMigrateStep,
  type AppInstance,
} from "./mesh.js";
import { joinRefusal, readRunningMesh } from "./join.js";
import { pubsubEngineOf } from "./kafka.js";
import { portPlan, replicaPorts, type AppName } from "./ports.js";
import {
  MeshError,
  httpOk,
  portInUse,
  startProcess,
  stopProcess,
  waitFor,
  type Managed,
} from "./processes.js";

const say = (m: string) => console.log(`[lsp dev] ${m}`);
/** What this command started (own process groups): stopped on Ctrl-C and on a failed start. */
const started: Managed[] = [];

function parseCli(argv: string[]): { app: string; run: string } {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { run: { type: "string", default: process.env.LSP_RUN_NAME ?? "dev" } },
  });
  const [app] = positionals;
  if (!app || positionals.length > 1) throw new MeshError("usage: npm run dev -- <app> [--run <name>]");
  return { app, run: values.run };
}

async function main(): Promise<void> {
  const { app: appArg, run } = parseCli(process.argv.slice(2));
  const runDir = path.join(REPO, ".lsp", run);
  const mesh = readRunningMesh(runDir);
  const refusal = joinRefusal(mesh, appArg);
  if (refusal) throw new MeshError(refusal);
  const app = appArg as AppName;
  const plan = portPlan(mesh.portBase, mesh.replicas);
  const ports = replicaPorts(plan, app, 1);
  const busy: number[] = [];
  for (const port of Object.values(ports)) if (await portInUse(port)) busy.push(port);
  if (busy.length) throw new MeshError(`${app}'s ports are busy: ${busy.join(", ")}`);
  const logDir = path.join(runDir, "logs");
  const instance: AppInstance = { app, replica: 1, name: instanceName(app, 1), podName: `${app}-1`, ports };
  const access = loadAccess(REPO);
  // A fresh pair, as the launcher makes per run: only this app and its sidecar know them.
  const token = () => randomBytes(32).toString("base64url");
  const tokens = { daprApiToken: token(), appApiToken: token() };

  if (migratingApps([app]).length) {
    say(`migrating ${app}'s schema as its owner…`);
    await buildApps();
    await migrateStepDone(app, startMigrateStep(app, plan.postgres, logDir, mesh.join.logLevel));
    if (mesh.join.demoData && DEMO_SEEDED.includes(app)) await seedDemoData(app, plan.postgres);
  }
  // As the launcher: Redis fan-out groups are made beforehand; on Kafka the group's initialOffset
  // does that job (kafka.ts).
  const engine = pubsubEngineOf(mesh.processes);
  const fanout = engine === "redis" ? (fanoutTopics(access)[app] ?? []) : [];
  if (fanout.length) await createFanoutGroups(plan.redis, app, instance.podName, fanout);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping…");
    await Promise.all(started.map((p) => stopProcess(p)));
    if (fanout.length) await dropFanoutGroups(plan.redis, instance.podName, fanout).catch(() => undefined);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  say(`starting ${app}'s daprd (http ${ports.daprHttp}, grpc ${ports.daprGrpc})…`);
  const sidecar = startSidecar(
    daprBinDir(REPO),
    app,
    ports,
    plan,
    mesh.join.resources,
    mesh.join.trust,
    tokens,
    logDir,
    { instance: instance.name, podName: instance.podName },
    engine,
  );
  started.push(sidecar);
  const env = appEnvironment({
    instance,
    tokens,
    access,
    postgresPort: plan.postgres,
    meshApps: [...mesh.join.apps, app],
    edgeReplicas: mesh.replicas.edge,
    logLevel: mesh.join.logLevel,
    otlpHttpEndpoint: mesh.join.otlpHttpEndpoint,
  });
  // A TypeScript app from its sources, restarted on every change (its package's `dev` script);
  // ai as in the mesh.
  const command =
    app === "ai"
      ? appCommand(app)
      : { command: "npm", args: ["run", "--silent", "dev"], cwd: path.join(REPO, "services", app) };
  const proc = startProcess(instance.name, command.command, command.args, { cwd: command.cwd, env, logDir });
  started.push(proc);
  // The app's own lines in this terminal too (its log file keeps them as well).
  proc.child.stdout?.pipe(process.stdout);
  proc.child.stderr?.pipe(process.stderr);
  void proc.exited.then((code) => {
    if (!stopping) {
      say(`${app} exited (code ${code}); read ${path.relative(REPO, proc.logFile)}`);
      void stop(1);
    }
  });
  void sidecar.exited.then((code) => {
    if (!stopping) {
      say(`${app}'s sidecar exited (code ${code}); read ${path.relative(REPO, sidecar.logFile)}`);
      void stop(1);
    }
  });
  await waitFor(`${app} (app /readyz)`, () => httpOk(`http://127.0.0.1:${ports.ops}/readyz`), {
    timeoutMs: 120_000,
    process: proc,
  });
  await waitFor(`${app}'s sidecar`, () => httpOk(`http://127.0.0.1:${ports.daprHttp}/v1.0/healthz`), {
    timeoutMs: 60_000,
    process: sidecar,
  });
  say(
    `✓ ${app} ready (app ${ports.app}, ops ${ports.ops}); sidecar log ${path.relative(REPO, sidecar.logFile)}`,
  );
  say("Ctrl-C stops it; the mesh keeps running.");
}

try {
  await main();
} catch (err) {
  await Promise.all(started.map((p) => stopProcess(p, 0)));
  if (err instanceof MeshError || err instanceof RangeError) {
    console.error(`[lsp dev] ✗ ${err.message}`);
    process.exit(1);
  }
  throw err;
}
