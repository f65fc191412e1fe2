import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import express, { type Express, type RequestHandler } from "express";
import { errorHandler, AppError } from "./errors.js";
import type { Logger } from "./logger.js";
import { httpMetrics, registry } from "./metrics.js";
import type { BaseConfig } from "./config.js";

/** The header the sidecar checks (app → sidecar) and sends (sidecar → app). */
export const DAPR_TOKEN_HEADER = "dapr-api-token";

const RAW_BODY = Symbol.for("lsp.rawBody");
type RawBodyCarrier = IncomingMessage & { [RAW_BODY]?: Buffer };

/** The request body exactly as received (JSON bodies only; undefined when none was parsed). */
export function rawBodyOf(req: IncomingMessage): Buffer | undefined {
  return (req as RawBodyCarrier)[RAW_BODY];
}

export type ReadinessCheck = () => Promise<unknown>;

export interface ServiceDefinition {
  config: BaseConfig;
  log: Logger;
  /**
   * Named readiness checks (e.g. the database); a throw or `false` fails. The sidecar's is
   * required (`sidecarReady` of @lsp/dapr, which builds on this package and so cannot be called
   * from here): an app is ready only when its sidecar's components are loaded.
   */
  readiness: { sidecar: ReadinessCheck } & Record<string, ReadinessCheck>;
  routes: (app: Express) => void;
  /**
   * Routes served to anyone, without the app token (path prefixes, e.g. "/graphql"). Only the
   * edge has any; everywhere else only the sidecar (which sends the token) may call the app.
   */
  publicRoutes?: readonly string[];
  /** Routes whose bodies may be of any content type (their handlers read and bound them). */
  rawBodyRoutes?: readonly string[];
  /** Runs after the HTTP server stopped accepting requests, before exit. */
  onShutdown?: () => Promise<void>;
}

export interface RunningService {
  app: Express;
  server: Server;
  opsServer: Server;
  stop: () => Promise<void>;
}

async function runChecks(checks: Record<string, ReadinessCheck>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        const ok = await check();
        return [name, ok === false ? "not ready" : "ok"] as const;
      } catch (err) {
        return [name, err instanceof Error ? err.message : String(err)] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** True when `token` equals `expected`, in constant time. */
function sameToken(token: string | undefined, expected: string): boolean {
  if (token === undefined) return false;
  const a = Buffer.from(token);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function matches(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));
}

/**
 * Only our sidecar may call the app: every route but /healthz and the declared public routes
 * refuses a request without the app token (sidecar → app, Dapr's APP_API_TOKEN).
 */
export function requireAppToken(token: string, publicRoutes: readonly string[] = []): RequestHandler {
  return (req, _res, next) => {
    if (req.path === "/healthz" || req.path === SERVING_PATH || matches(req.path, publicRoutes))
      return next();
    const given = req.headers[DAPR_TOKEN_HEADER];
    if (sameToken(Array.isArray(given) ? given[0] : given, token)) return next();
    next(new AppError("UNAUTHENTICATED", "this route is for the Dapr sidecar only"));
  };
}

/**
 * The sidecar's app health probe (daprd --app-health-check-path): 200 while the app can do its
 * work (its readiness checks but the sidecar's own pass), 503 otherwise. While it fails the
 * sidecar holds pub/sub deliveries in the stream instead of spending their retries on an app
 * whose database is down (a delivery out of retries would be dropped). /healthz stays the
 * liveness answer: a database outage is no reason to restart the app.
 */
export const SERVING_PATH = "/healthz/serving";

const JSON_TYPES = ["application/json", "application/*+json"];

/**
 * Bodies are JSON (bounded by BODY_LIMIT) or nothing: a body of any other type is read only up
 * to the same limit (413 beyond) and then refused with 415, so a client cannot slip a large
 * body past the limit in another content type. Routes that take other types declare it.
 */
function jsonBodiesOnly(limit: string, rawBodyRoutes: readonly string[]): RequestHandler[] {
  // body-parser hands the type test the Express request itself.
  const isOther = (req: IncomingMessage) => {
    const r = req as express.Request;
    return !matches(r.path, rawBodyRoutes) && !r.is(JSON_TYPES);
  };
  return [
    express.raw({ type: isOther, limit }),
    (req, _res, next) => {
      if (!isOther(req) || !Buffer.isBuffer(req.body)) return next();
      if (req.body.length === 0) {
        req.body = undefined; // no body, as without the reader
        return next();
      }
      next(new AppError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json"));
    },
  ];
}

/** Express with the shared plumbing: JSON bodies, RED metrics, health, errors, graceful stop. */
export async function startService(def: ServiceDefinition): Promise<RunningService> {
  const { config, log } = def;
  const app = express();
  app.disable("x-powered-by");
  app.use(httpMetrics());
  app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
  // The sidecar asks: its own check would ask it back (and fail while it waits for the app).
  const { sidecar: _askedBySidecar, ...servingChecks } = def.readiness;
  app.get(SERVING_PATH, async (_req, res) => {
    const results = await runChecks(servingChecks);
    const serving = Object.values(results).every((r) => r === "ok");
    res.status(serving ? 200 : 503).json({ status: serving ? "serving" : "not serving", checks: results });
  });
  app.use(requireAppToken(config.APP_API_TOKEN, def.publicRoutes));
  app.use(jsonBodiesOnly(config.BODY_LIMIT, def.rawBodyRoutes ?? []));
  // Dapr delivers pub/sub messages as application/cloudevents+json.
  // The exact bytes are kept beside the parsed body: webhook signatures are checked over them.
  app.use(
    express.json({
      limit: config.BODY_LIMIT,
      type: JSON_TYPES,
      verify: (req, _res, buf) => void ((req as RawBodyCarrier)[RAW_BODY] = buf),
    }),
  );

  // The ops listener: readiness and metrics for the platform (kubelet, Prometheus), on a port
  // that neither the sidecar nor the ingress forwards to.
  const ops = express();
  ops.disable("x-powered-by");
  ops.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
  const checks: Record<string, ReadinessCheck> = { ...def.readiness };
  ops.get("/readyz", async (_req, res) => {
    const results = await runChecks(checks);
    const ready = Object.values(results).every((r) => r === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks: results });
  });
  ops.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  ops.use(
    (req, res) =>
      void res.status(404).json({ error: { code: "NOT_FOUND", message: `no route ${req.path}` } }),
  );

  def.routes(app);
  app.use((req, _res, next) => next(new AppError("NOT_FOUND", `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(log));

  const opsServer = await new Promise<Server>((resolve, reject) => {
    const s = ops.listen(config.OPS_PORT, config.OPS_HOST, () => resolve(s));
    s.once("error", reject);
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.APP_PORT, config.APP_HOST, () => resolve(s));
    s.once("error", reject);
  });
  // Node closes idle keep-alive sockets after 5 s; a client (or sidecar, or load balancer) that
  // reuses one at that moment gets "other side closed" on a POST it cannot safely retry. Keep
  // idle sockets longer than the usual client/proxy idle timeouts (60 s) instead.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // startup_ms: since the process began (imports, config, database check): what a restart costs.
  log.info(
    { port: config.APP_PORT, opsPort: config.OPS_PORT, startup_ms: Math.round(performance.now()) },
    `${config.SERVICE_NAME} listening`,
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info("shutting down");
      opsServer.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await def.onShutdown?.().catch((err: unknown) => log.error({ err }, "shutdown hook failed"));
      const flush = (globalThis as Record<symbol, unknown>)[Symbol.for("lsp.telemetry.shutdown")];
      if (typeof flush === "function") await (flush as () => Promise<void>)();
    })());
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      const t0 = Date.now();
      void stop().then(() => {
        log.info({ ms: Date.now() - t0 }, "stopped");
        process.exit(0);
      });
    });
  }
  return { app, server, opsServer, stop };
}
