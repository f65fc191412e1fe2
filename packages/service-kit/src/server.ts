import type { IncomingMessage, Server } from "node:http";
import express, { type Express } from "express";
import { errorHandler, AppError } from "./errors.js";
import type { Logger } from "./logger.js";
import { httpMetrics, registry } from "./metrics.js";
import type { BaseConfig } from "./config.js";
import { sidecarReady } from "./dapr.js";

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
  /** Named readiness checks besides the sidecar's (e.g. the database); a throw or `false` fails. */
  readiness?: Record<string, ReadinessCheck>;
  routes: (app: Express) => void;
  /** Runs after the HTTP server stopped accepting requests, before exit. */
  onShutdown?: () => Promise<void>;
}

export interface RunningService {
  app: Express;
  server: Server;
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

/** Express with the shared plumbing: JSON bodies, RED metrics, health, errors, graceful stop. */
export async function startService(def: ServiceDefinition): Promise<RunningService> {
  const { config, log } = def;
  const app = express();
  app.disable("x-powered-by");
  app.use(httpMetrics());
  // Dapr delivers pub/sub messages as application/cloudevents+json.
  // The exact bytes are kept beside the parsed body: webhook signatures are checked over them.
  app.use(
    express.json({
      limit: config.BODY_LIMIT,
      type: ["application/json", "application/*+json"],
      verify: (req, _res, buf) => void ((req as RawBodyCarrier)[RAW_BODY] = buf),
    }),
  );

  app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
  const checks: Record<string, ReadinessCheck> = { sidecar: () => sidecarReady(config), ...def.readiness };
  app.get("/readyz", async (_req, res) => {
    const results = await runChecks(checks);
    const ready = Object.values(results).every((r) => r === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", checks: results });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  def.routes(app);
  app.use((req, _res, next) => next(new AppError("NOT_FOUND", `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(log));

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.APP_PORT, config.APP_HOST, () => resolve(s));
    s.once("error", reject);
  });
  // Node closes idle keep-alive sockets after 5 s; a client (or sidecar, or load balancer) that
  // reuses one at that moment gets "other side closed" on a POST it cannot safely retry. Keep
  // idle sockets longer than the usual client/proxy idle timeouts (60 s) instead.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  log.info({ port: config.APP_PORT }, `${config.SERVICE_NAME} listening`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info("shutting down");
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
  return { app, server, stop };
}
