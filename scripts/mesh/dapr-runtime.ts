import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments, stringify, type Document, type YAMLSeq } from "yaml";
import {
  accessControlFor,
  componentScopes,
  pubsubScopeMetadata,
  PUBSUB,
  PUBSUB_FANOUT,
  SECRET_STORE,
  secretScopesFor,
  type Access,
} from "./access.js";
import { appHealthCheckEnabled, type PubsubEngine } from "./kafka.js";
import type { AppPorts, PortPlan } from "./ports.js";
import { MeshError, cachedToolDir, httpOk, startProcess, waitFor, type Managed } from "./processes.js";

/** Where tools/dapr/build.sh cached the pinned binaries; a clear error when they were never built. */
export function daprBinDir(repo: string): string {
  return cachedToolDir(
    repo,
    "dapr",
    "Dapr binaries (daprd, placement, scheduler, sentry) are not built for this pin: run `npm run setup`",
  );
}

export interface RenderedResources {
  resourcesDir: string;
  /** Each sidecar's Configuration: shared settings plus its own access control and secret scopes. */
  configFiles: Record<string, string>;
}

/**
 * Fills the local component templates with this run's ports and paths, gives each Component the
 * scopes components/access.yaml implies (componentScopes: a sidecar loads only the components its
 * app uses), adds the topic scopes to the pub/sub component, and writes one Configuration per app
 * (the shared config.yaml with that app's access control and secret scopes).
 */
export function renderComponents(
  repo: string,
  runDir: string,
  values: Record<string, string>,
  access: Access,
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
  let configTemplate = "";
  const files = new Map<string, Document[]>();
  for (const file of readdirSync(src).filter((f) => f.endsWith(".yaml"))) {
    let text = readFileSync(path.join(src, file), "utf8");
    if (file === "config.yaml") {
      if (!otlpGrpc) text = text.replace(/ *# otel-begin[\s\S]*?# otel-end\n/, "");
      configTemplate = fill(text);
    } else {
      files.set(file, parseAllDocuments(fill(text)) as Document[]);
    }
  }
  const components = [...files.values()].flat().filter((d) => d.get("kind") === "Component");
  const nameOf = (d: Document) => String(d.getIn(["metadata", "name"]));
  const known = new Set(components.map(nameOf));
  for (const [app, a] of Object.entries(access.apps))
    for (const c of a.components ?? [])
      if (!known.has(c))
        throw new MeshError(`access.yaml: ${app} uses ${c}, which components/local does not define`);
  // Locally a component's secretKeyRefs are read through the file secret store its `auth` names,
  // so the apps loading such a component load that store too.
  const secretStoreUsers = components
    .filter((d) => d.getIn(["auth", "secretStore"]) === SECRET_STORE)
    .flatMap((d) => componentScopes(access, nameOf(d)));
  for (const component of components) {
    const name = nameOf(component);
    component.set("scopes", componentScopes(access, name, secretStoreUsers));
    if (name === PUBSUB || name === PUBSUB_FANOUT) {
      const metadata = component.getIn(["spec", "metadata"]) as YAMLSeq;
      for (const [key, value] of Object.entries(pubsubScopeMetadata(access, name)))
        metadata.add(component.createNode({ name: key, value }));
    }
  }
  for (const [file, docs] of files) {
    // A document after the first keeps its own `---` when the source had one.
    const texts = docs.map((d, i) =>
      i === 0 || String(d).startsWith("---") ? String(d) : `---\n${String(d)}`,
    );
    writeFileSync(path.join(resourcesDir, file), texts.join(""));
  }
  const configFiles: Record<string, string> = {};
  for (const app of Object.keys(access.apps)) {
    const [doc] = parseAllDocuments(configTemplate);
    const config = doc?.toJS() as { spec: Record<string, unknown> };
    config.spec.accessControl = accessControlFor(access, app);
    config.spec.secrets = { scopes: secretScopesFor(access, app) };
    // Measuring what daprd's own telemetry costs (bench/mesh.ts --dapr-telemetry off): no metrics
    // endpoint, no spans sampled. Never the default: dashboards and trace propagation rely on both.
    if (process.env.LSP_DAPR_TELEMETRY === "off") {
      config.spec.metric = { enabled: false };
      config.spec.tracing = { samplingRate: "0" };
    }
    configFiles[app] = path.join(runDir, `config-${app}.yaml`);
    writeFileSync(configFiles[app], stringify(config));
  }
  return { resourcesDir, configFiles };
}

/** Where Sentry keeps the mesh's root and issuer (it makes them on its first start). */
export interface TrustBundle {
  dir: string;
  caFile: string;
}

/**
 * Dapr Sentry, the certificate authority of the mesh: it creates a self-signed root and issuer in
 * the run's state directory on its first start (kept for the next start of the same run) and
 * signs every sidecar's and the control plane's workload certificates (mTLS, SPIFFE ids).
 * Locally it accepts any app id (Sentry's self-hosted "insecure" validator: every process here
 * is ours); in the cluster it checks Kubernetes service account tokens.
 */
export async function startSentry(
  bin: string,
  plan: PortPlan,
  runDir: string,
  logDir: string,
): Promise<{ proc: Managed; trust: TrustBundle }> {
  const dir = path.join(runDir, "sentry");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configFile = path.join(runDir, "sentry-config.yaml");
  writeFileSync(
    configFile,
    stringify({
      apiVersion: "dapr.io/v1alpha1",
      kind: "Configuration",
      metadata: { name: "daprsystem" },
      spec: { mtls: { enabled: true, workloadCertTTL: "24h", allowedClockSkew: "15m" } },
    }),
  );
  const s = plan.sentry;
  const proc = startProcess(
    "sentry",
    path.join(bin, "sentry"),
    [
      "--config",
      configFile,
      "--issuer-credentials",
      dir,
      ...onLoopback(s),
      "--log-as-json",
      "--log-level",
      daprLogLevel(),
    ],
    { cwd: logDir, logDir },
  );
  const caFile = path.join(dir, "ca.crt");
  await waitFor(
    "sentry",
    async () => existsSync(caFile) && (await httpOk(`http://127.0.0.1:${s.healthz}/healthz`)),
    { timeoutMs: 30_000, process: proc },
  );
  return { proc, trust: { dir, caFile } };
}

/** A control-plane service's API, health and metrics listeners, on loopback only. */
function onLoopback(ports: { port: number; healthz: number; metrics: number }): string[] {
  return [
    ["--port", ports.port],
    ["--listen-address", "127.0.0.1"],
    ["--healthz-port", ports.healthz],
    ["--healthz-listen-address", "127.0.0.1"],
    ["--metrics-port", ports.metrics],
    ["--metrics-listen-address", "127.0.0.1"],
  ].flatMap(([flag, value]) => [String(flag), String(value)]);
}

/** The flags that put a control-plane service (placement, scheduler) on Sentry's mTLS. */
function controlPlaneTls(plan: PortPlan, trust: TrustBundle): string[] {
  return [
    "--tls-enabled",
    "--trust-domain",
    "localhost",
    "--trust-anchors-file",
    trust.caFile,
    "--sentry-address",
    `127.0.0.1:${plan.sentry.port}`,
  ];
}

export async function startPlacement(
  bin: string,
  plan: PortPlan,
  trust: TrustBundle,
  logDir: string,
): Promise<Managed> {
  const p = plan.placement;
  const proc = startProcess(
    "placement",
    path.join(bin, "placement"),
    [
      ...onLoopback(p),
      "--initial-cluster",
      `dapr-placement-0=127.0.0.1:${p.raft}`,
      ...controlPlaneTls(plan, trust),
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
  trust: TrustBundle,
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
      ...onLoopback(s),
      "--override-broadcast-host-port",
      `127.0.0.1:${s.port}`,
      "--etcd-data-dir",
      etcdDir,
      "--etcd-client-port",
      String(s.etcdClient),
      "--etcd-client-listen-address",
      "127.0.0.1",
      "--etcd-initial-cluster",
      `dapr-scheduler-server-0=http://127.0.0.1:${s.etcdPeer}`,
      ...controlPlaneTls(plan, trust),
      // Its own copy of its workload identity, per run (the default is one shared /tmp path).
      "--identity-directory-write",
      path.join(etcdDir, "..", "scheduler-identity"),
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

/** The two tokens of one app: app → its sidecar (Dapr API), sidecar → app (app API). */
export interface AppTokens {
  daprApiToken: string;
  appApiToken: string;
}

/**
 * The Go runtime's memory settings of every daprd. GOMEMLIMIT is a soft limit: near it the
 * collector works harder instead of letting the heap double first (GOGC's growth); GOGC=50 halves
 * that growth. This build idles at about 20 MB of Go memory (the chart's annotations carry their
 * own figures, charts/lsp/values.yaml `dapr.sidecar.goMemLimit`/`goGC`: the upstream image there
 * compiles in every component and idles at about 40). Most of a sidecar's RSS is not Go memory
 * but the pages of the daprd binary it touched, shared by every sidecar (see tools/dapr/build.sh).
 * LSP_DAPRD_GOMEMLIMIT / LSP_DAPRD_GOGC override them (measuring).
 */
export const DAPRD_GO_ENV = {
  GOMEMLIMIT: process.env.LSP_DAPRD_GOMEMLIMIT ?? "48MiB",
  GOGC: process.env.LSP_DAPRD_GOGC ?? "50",
};

/**
 * One replica's daprd, logged as `<instance>.daprd`. `podName` names the replica as a Kubernetes
 * pod name would (POD_NAME, which Dapr puts in place of `{podName}` in component metadata: the
 * fan-out pub/sub's consumer group, one per replica).
 */
export function startSidecar(
  bin: string,
  appId: string,
  ports: AppPorts,
  plan: PortPlan,
  resources: RenderedResources,
  trust: TrustBundle,
  tokens: AppTokens,
  logDir: string,
  replica: { instance: string; podName: string } = { instance: appId, podName: `${appId}-1` },
  pubsub: PubsubEngine = "redis",
): Managed {
  if (!existsSync(path.join(bin, "daprd")))
    throw new MeshError(`daprd missing in ${bin}: run \`npm run setup\``);
  return startProcess(
    `${replica.instance}.daprd`,
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
      resources.configFiles[appId] ?? "",
      // Sidecar-to-sidecar and sidecar-to-control-plane traffic is mTLS with SPIFFE identities
      // from Sentry: the callee's access control knows which app calls.
      "--enable-mtls",
      "--sentry-address",
      `127.0.0.1:${plan.sentry.port}`,
      "--placement-host-address",
      `127.0.0.1:${plan.placement.port}`,
      "--scheduler-host-address",
      `127.0.0.1:${plan.scheduler.port}`,
      "--log-as-json",
      "--log-level",
      daprLogLevel(),
      // While an app is down (crash, restart) its sidecar stops delivering pub/sub messages
      // instead of burning their retries (they wait in the stream), and withdraws the actor
      // types it hosts from placement, so that a dead ai replica's actors activate on a living
      // one (their state is in the actor state store). @lsp/runtime apps answer on
      // /healthz/serving, which fails while their database is down too (SERVING_PATH); the ai
      // app serves /healthz through the Dapr actor extension. The probe may take 900 ms (under
      // the 1 s interval, as daprd requires): a busy machine is not a dead app.
      // Not on Kafka, where that pause stalls Dapr's Kafka consumer (appHealthCheckEnabled).
      ...(appHealthCheckEnabled(pubsub)
        ? [
            "--enable-app-health-check",
            "--app-health-check-path",
            appId === "ai" ? "/healthz" : "/healthz/serving",
            "--app-health-probe-interval",
            "1",
            "--app-health-probe-timeout",
            "900",
            "--app-health-threshold",
            "2",
          ]
        : []),
    ],
    {
      cwd: logDir,
      logDir,
      env: {
        ...DAPRD_GO_ENV,
        // Actors advertise this address to placement.
        DAPR_HOST_IP: "127.0.0.1",
        POD_NAME: replica.podName,
        DAPR_TRUST_ANCHORS: readFileSync(trust.caFile, "utf8"),
        DAPR_API_TOKEN: tokens.daprApiToken,
        APP_API_TOKEN: tokens.appApiToken,
      },
    },
  );
}

/** LSP_DAPR_LOG_LEVEL=debug shows why a sidecar refuses something. */
function daprLogLevel(): string {
  return process.env.LSP_DAPR_LOG_LEVEL ?? "info";
}
