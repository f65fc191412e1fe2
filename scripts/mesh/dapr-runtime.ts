import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AppPorts, PortPlan } from "./ports.js";
import { MeshError, httpOk, startProcess, waitFor, type Managed } from "./processes.js";

/** Where tools/dapr/build.sh cached the pinned binaries; a clear error when they were never built. */
export function daprBinDir(repo: string): string {
  try {
    const out = execFileSync("bash", [path.join(repo, "tools/dapr/build.sh"), "--check"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.toString().trim().split("\n").pop() ?? "";
  } catch {
    throw new MeshError(
      "Dapr binaries (daprd, placement, scheduler) are not built for this pin: run `npm run setup`",
    );
  }
}

export interface RenderedResources {
  resourcesDir: string;
  configFile: string;
}

/** Fills the local component templates with this run's ports and paths. */
export function renderComponents(
  repo: string,
  runDir: string,
  values: Record<string, string>,
  otlpGrpc?: string,
): RenderedResources {
  const src = path.join(repo, "components", "local");
  const resourcesDir = path.join(runDir, "components");
  mkdirSync(resourcesDir, { recursive: true });
  const fill = (text: string) =>
    text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
      const v = key === "OTLP_GRPC_ENDPOINT" ? otlpGrpc : values[key];
      if (v === undefined) throw new MeshError(`components: no value for {{${key}}}`);
      return v;
    });
  let configFile = "";
  for (const file of readdirSync(src).filter((f) => f.endsWith(".yaml"))) {
    let text = readFileSync(path.join(src, file), "utf8");
    if (file === "config.yaml") {
      if (!otlpGrpc) text = text.replace(/ *# otel-begin[\s\S]*?# otel-end\n/, "");
      configFile = path.join(runDir, "config.yaml");
      writeFileSync(configFile, fill(text));
    } else {
      writeFileSync(path.join(resourcesDir, file), fill(text));
    }
  }
  return { resourcesDir, configFile };
}

export async function startPlacement(bin: string, plan: PortPlan, logDir: string): Promise<Managed> {
  const p = plan.placement;
  const proc = startProcess(
    "placement",
    path.join(bin, "placement"),
    [
      "--port",
      String(p.port),
      "--listen-address",
      "127.0.0.1",
      "--healthz-port",
      String(p.healthz),
      "--healthz-listen-address",
      "127.0.0.1",
      "--metrics-port",
      String(p.metrics),
      "--metrics-listen-address",
      "127.0.0.1",
      "--initial-cluster",
      `dapr-placement-0=127.0.0.1:${p.raft}`,
      "--log-as-json",
      "--log-level",
      daprLogLevel(),
    ],
    { cwd: logDir, logDir },
  );
  await waitFor("placement", () => httpOk(`http://127.0.0.1:${p.healthz}/healthz`), {
    timeoutMs: 30_000,
    process: proc,
  });
  return proc;
}

export async function startScheduler(
  bin: string,
  plan: PortPlan,
  dataDir: string,
  logDir: string,
): Promise<Managed> {
  const s = plan.scheduler;
  // The etcd data dir must be absolute: relative paths resolve against the working directory.
  const etcdDir = path.resolve(dataDir);
  mkdirSync(etcdDir, { recursive: true });
  const proc = startProcess(
    "scheduler",
    path.join(bin, "scheduler"),
    [
      "--port",
      String(s.port),
      "--listen-address",
      "127.0.0.1",
      "--override-broadcast-host-port",
      `127.0.0.1:${s.port}`,
      "--healthz-port",
      String(s.healthz),
      "--healthz-listen-address",
      "127.0.0.1",
      "--metrics-port",
      String(s.metrics),
      "--metrics-listen-address",
      "127.0.0.1",
      "--etcd-data-dir",
      etcdDir,
      "--etcd-client-port",
      String(s.etcdClient),
      "--etcd-client-listen-address",
      "127.0.0.1",
      "--etcd-initial-cluster",
      `dapr-scheduler-server-0=http://127.0.0.1:${s.etcdPeer}`,
      "--log-as-json",
      "--log-level",
      daprLogLevel(),
    ],
    { cwd: etcdDir, logDir },
  );
  await waitFor("scheduler", () => httpOk(`http://127.0.0.1:${s.healthz}/healthz`), {
    timeoutMs: 60_000,
    process: proc,
  });
  return proc;
}

export function startSidecar(
  bin: string,
  appId: string,
  ports: AppPorts,
  plan: PortPlan,
  resources: RenderedResources,
  logDir: string,
): Managed {
  if (!existsSync(path.join(bin, "daprd")))
    throw new MeshError(`daprd missing in ${bin}: run \`npm run setup\``);
  return startProcess(
    `${appId}.daprd`,
    path.join(bin, "daprd"),
    [
      "--app-id",
      appId,
      "--app-port",
      String(ports.app),
      "--app-protocol",
      "http",
      "--app-channel-address",
      "127.0.0.1",
      "--dapr-http-port",
      String(ports.daprHttp),
      "--dapr-grpc-port",
      String(ports.daprGrpc),
      "--dapr-internal-grpc-port",
      String(ports.daprInternalGrpc),
      "--dapr-listen-addresses",
      "127.0.0.1",
      "--metrics-port",
      String(ports.daprMetrics),
      "--metrics-listen-address",
      "127.0.0.1",
      "--resources-path",
      resources.resourcesDir,
      "--config",
      resources.configFile,
      "--placement-host-address",
      `127.0.0.1:${plan.placement.port}`,
      "--scheduler-host-address",
      `127.0.0.1:${plan.scheduler.port}`,
      "--log-as-json",
      "--log-level",
      daprLogLevel(),
      // While an app is down (crash, restart) its sidecar stops delivering pub/sub messages
      // instead of burning their retries: they wait in the stream. service-kit apps serve /healthz.
      ...(appId === "ai"
        ? []
        : [
            "--enable-app-health-check",
            "--app-health-check-path",
            "/healthz",
            "--app-health-probe-interval",
            "1",
            "--app-health-threshold",
            "2",
          ]),
    ],
    // Actors advertise this address to placement.
    { cwd: logDir, logDir, env: { DAPR_HOST_IP: "127.0.0.1" } },
  );
}

/** LSP_DAPR_LOG_LEVEL=debug shows why a sidecar refuses something. */
function daprLogLevel(): string {
  return process.env.LSP_DAPR_LOG_LEVEL ?? "info";
}
