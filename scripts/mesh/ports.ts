/**
 * Every port of a local mesh derives from one base (LSP_PORT_BASE, default 4000), so two
 * checkouts — or a test run beside `npm start` — never collide: give each its own base.
 * Layout: base = edge; base+1.. infrastructure; base+20+10·i the i-th app, its sidecar (+1 … +4)
 * and its ops listener (+6: /readyz, /metrics; +5 would put sales on 4045, which fetch refuses).
 * Replicas (LSP_REPLICAS): replica r of an app has its first replica's ports plus (r-1)·PORT_SPAN,
 * so a mesh with at most R replicas of an app spans base … base + R·PORT_SPAN - 1 and a mesh of
 * single replicas keeps exactly the ports it always had.
 */
import { appNamesAs, loadAppManifest } from "../app-manifest.js";

/**
 * The apps' names as a type, so that a misspelt app in code (`mesh.ready("slaes")`) fails to
 * compile. TypeScript cannot type a YAML file, so the names are written here too; `APPS` below
 * refuses to load when they and apps.yaml differ, and scripts/app-manifest.test.ts says so.
 */
const APP_NAMES = ["ai", "auth", "dashboard", "edge", "notifications", "payments", "sales"] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Every app, in its apps.yaml port-slot order: the i-th app's ports are base + 20 + 10·i (above). */
export const APPS: readonly AppName[] = appNamesAs(
  loadAppManifest(),
  APP_NAMES,
  "scripts/mesh/ports.ts (AppName)",
);

export interface AppPorts {
  app: number;
  daprHttp: number;
  daprGrpc: number;
  daprInternalGrpc: number;
  daprMetrics: number;
  /** The app's ops listener (readiness, metrics): never behind the sidecar or the public port. */
  ops: number;
}

export interface PortPlan {
  base: number;
  postgres: number;
  redis: number;
  placement: { port: number; healthz: number; metrics: number; raft: number };
  scheduler: { port: number; healthz: number; metrics: number; etcdClient: number; etcdPeer: number };
  /** Dapr Sentry, the certificate authority of the mesh's mTLS. */
  sentry: { port: number; healthz: number; metrics: number };
  /** Consumer lag of the Redis streams for Prometheus (`/metrics`, scripts/mesh/stream-metrics.ts). */
  streamMetrics: number;
  /** The Kafka broker's client and controller listeners (LSP_PUBSUB=kafka only, scripts/mesh/kafka.ts). */
  kafka: { broker: number; controller: number };
  /** DEV ONLY: where the sms and push bindings deliver locally; read by tests and developers. */
  devSinks: number;
  /** The first replica's ports of each app (see `replicaPorts` for the others). */
  apps: Record<AppName, AppPorts>;
  /** How many replicas of each app run (1 unless LSP_REPLICAS says otherwise). */
  replicas: Record<AppName, number>;
}

/** The most replicas of one app a local mesh runs: each replica costs an app, a sidecar and RAM. */
export const MAX_REPLICAS = 4;

export const PORT_SPAN = 100;

// Slot i uses base+20+10·i … +6: the slots that fit in one span (8), and so the most apps a mesh has.
const PORT_SLOTS = Math.floor((PORT_SPAN - 20 - 7) / 10) + 1;
if (APPS.length > PORT_SLOTS)
  throw new RangeError(`apps.yaml has ${APPS.length} apps; a mesh's ${PORT_SPAN} ports hold ${PORT_SLOTS}`);

/** Ports the fetch standard refuses to connect to (above 1024): a mesh must not use them. */
const FETCH_BAD_PORTS = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697,
  10080,
]);

/** Every app once: a mesh without LSP_REPLICAS. */
export const SINGLE_REPLICAS: Readonly<Record<AppName, number>> = Object.freeze(
  Object.fromEntries(APPS.map((a) => [a, 1])) as Record<AppName, number>,
);

/**
 * Parses LSP_REPLICAS (`edge=2,dashboard=2`): apps not named run once. A typo (an unknown app, a
 * count that is not 1…MAX_REPLICAS, an app named twice) is a RangeError naming the part.
 */
export function parseReplicas(spec: string | undefined): Record<AppName, number> {
  const out = { ...SINGLE_REPLICAS };
  const seen = new Set<string>();
  for (const part of (spec ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part);
    if (!m) throw new RangeError(`LSP_REPLICAS: "${part}" is not app=count (e.g. edge=2,sales=2)`);
    const [, app = "", count = ""] = m;
    if (!(APPS as readonly string[]).includes(app))
      throw new RangeError(`LSP_REPLICAS: unknown app "${app}" (apps: ${APPS.join(", ")})`);
    if (seen.has(app)) throw new RangeError(`LSP_REPLICAS: ${app} is named twice`);
    seen.add(app);
    const n = Number(count);
    if (n < 1 || n > MAX_REPLICAS)
      throw new RangeError(`LSP_REPLICAS: ${app}=${count}, the count must be 1…${MAX_REPLICAS}`);
    out[app as AppName] = n;
  }
  return out;
}

/** The ports of replica `replica` (1-based) of `app`: the first replica's, shifted by whole spans. */
export function replicaPorts(plan: PortPlan, app: AppName, replica: number): AppPorts {
  if (!Number.isInteger(replica) || replica < 1 || replica > plan.replicas[app])
    throw new RangeError(`${app} has ${plan.replicas[app]} replica(s), not a replica ${replica}`);
  const shift = (replica - 1) * PORT_SPAN;
  const first = plan.apps[app];
  return Object.fromEntries(
    Object.entries(first).map(([k, port]) => [k, port + shift]),
  ) as unknown as AppPorts;
}

/** The ports a mesh occupies: base … base + spanOf(plan) - 1. */
export function spanOf(plan: PortPlan): number {
  return PORT_SPAN * Math.max(...Object.values(plan.replicas));
}

export function portPlan(
  base: number,
  replicas: Readonly<Record<AppName, number>> = SINGLE_REPLICAS,
): PortPlan {
  const span = PORT_SPAN * Math.max(...Object.values(replicas));
  if (!Number.isInteger(base) || base < 1024 || base + span > 65535) {
    throw new RangeError(`LSP_PORT_BASE must be an integer in 1024..${65535 - span}, got ${base}`);
  }
  const apps = Object.fromEntries(
    APPS.map((name, i) => {
      const b = base + 20 + 10 * i;
      return [
        name,
        {
          app: name === "edge" ? base : b,
          daprHttp: b + 1,
          daprGrpc: b + 2,
          daprInternalGrpc: b + 3,
          daprMetrics: b + 4,
          ops: b + 6,
        },
      ];
    }),
  ) as Record<AppName, AppPorts>;
  const plan: PortPlan = {
    base,
    postgres: base + 1,
    redis: base + 2,
    placement: { port: base + 3, healthz: base + 4, metrics: base + 5, raft: base + 6 },
    scheduler: {
      port: base + 7,
      healthz: base + 8,
      metrics: base + 9,
      etcdClient: base + 10,
      etcdPeer: base + 11,
    },
    devSinks: base + 12,
    sentry: { port: base + 13, healthz: base + 14, metrics: base + 15 },
    streamMetrics: base + 16,
    kafka: { broker: base + 17, controller: base + 18 },
    apps,
    replicas: { ...SINGLE_REPLICAS, ...replicas },
  };
  const refused = allPorts(plan).filter((p) => FETCH_BAD_PORTS.has(p.port));
  if (refused.length)
    throw new RangeError(
      `LSP_PORT_BASE ${base} would put ${refused.map((p) => `${p.owner} on ${p.port}`).join(", ")}, a port HTTP clients refuse; choose another base`,
    );
  return plan;
}

export function allPorts(plan: PortPlan): { port: number; owner: string }[] {
  const out: { port: number; owner: string }[] = [
    { port: plan.postgres, owner: "postgres" },
    { port: plan.redis, owner: "redis" },
    ...Object.entries(plan.placement).map(([k, port]) => ({ port, owner: `placement ${k}` })),
    ...Object.entries(plan.scheduler).map(([k, port]) => ({ port, owner: `scheduler ${k}` })),
    ...Object.entries(plan.sentry).map(([k, port]) => ({ port, owner: `sentry ${k}` })),
    { port: plan.devSinks, owner: "dev sinks" },
    { port: plan.streamMetrics, owner: "stream metrics" },
    ...Object.entries(plan.kafka).map(([k, port]) => ({ port, owner: `kafka ${k}` })),
  ];
  for (const name of APPS) {
    for (let r = 1; r <= plan.replicas[name]; r++) {
      const who = r === 1 ? name : `${name} replica ${r}`;
      for (const [k, port] of Object.entries(replicaPorts(plan, name, r)))
        out.push({ port, owner: `${who} ${k}` });
    }
  }
  return out;
}
