/**
 * Every port of a local mesh derives from one base (LSP_PORT_BASE, default 4000), so two
 * checkouts — or a test run beside `npm start` — never collide: give each its own base.
 * Layout: base = edge; base+1.. infrastructure; base+20+10·i the i-th app, its sidecar (+1 … +4)
 * and its ops listener (+6: /readyz, /metrics; +5 would put sales on 4045, which fetch refuses).
 */
export const APPS = ["edge", "auth", "sales", "dashboard", "payments", "notifications", "ai"] as const;
export type AppName = (typeof APPS)[number];

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
  /** DEV ONLY: where the sms and push bindings deliver locally; read by tests and developers. */
  devSinks: number;
  apps: Record<AppName, AppPorts>;
}

export const PORT_SPAN = 100;

/** Ports the fetch standard refuses to connect to (above 1024): a mesh must not use them. */
const FETCH_BAD_PORTS = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697,
  10080,
]);

export function portPlan(base: number): PortPlan {
  if (!Number.isInteger(base) || base < 1024 || base + PORT_SPAN > 65535) {
    throw new RangeError(`LSP_PORT_BASE must be an integer in 1024..${65535 - PORT_SPAN}, got ${base}`);
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
    apps,
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
  ];
  for (const [name, p] of Object.entries(plan.apps)) {
    for (const [k, port] of Object.entries(p)) out.push({ port, owner: `${name} ${k}` });
  }
  return out;
}
