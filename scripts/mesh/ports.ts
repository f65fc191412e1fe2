/**
 * Every port of a local mesh derives from one base (LSP_PORT_BASE, default 4000), so two
 * checkouts — or a test run beside `npm start` — never collide: give each its own base.
 * Layout: base = edge; base+1.. infrastructure; base+20+10·i the i-th app and its sidecar.
 */
export const APPS = ["edge", "auth", "sales", "dashboard", "payments", "notifications", "ai"] as const;
export type AppName = (typeof APPS)[number];

export interface AppPorts {
  app: number;
  daprHttp: number;
  daprGrpc: number;
  daprInternalGrpc: number;
  daprMetrics: number;
}

export interface PortPlan {
  base: number;
  postgres: number;
  redis: number;
  placement: { port: number; healthz: number; metrics: number; raft: number };
  scheduler: { port: number; healthz: number; metrics: number; etcdClient: number; etcdPeer: number };
  apps: Record<AppName, AppPorts>;
}

export const PORT_SPAN = 100;

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
        },
      ];
    }),
  ) as Record<AppName, AppPorts>;
  return {
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
    apps,
  };
}

export function allPorts(plan: PortPlan): { port: number; owner: string }[] {
  const out: { port: number; owner: string }[] = [
    { port: plan.postgres, owner: "postgres" },
    { port: plan.redis, owner: "redis" },
    ...Object.entries(plan.placement).map(([k, port]) => ({ port, owner: `placement ${k}` })),
    ...Object.entries(plan.scheduler).map(([k, port]) => ({ port, owner: `scheduler ${k}` })),
  ];
  for (const [name, p] of Object.entries(plan.apps)) {
    for (const [k, port] of Object.entries(p)) out.push({ port, owner: `${name} ${k}` });
  }
  return out;
}
