import path from "node:path";
import { z } from "zod";
import { PaymentProvider } from "@lsp/contracts";
import {
  bootDatabaseService,
  serviceCallers,
  mountSubschema,
  pingDatabase,
  rawBodyOf,
  startOutboxRelay,
  startService,
} from "@lsp/service-kit";
import type { PaymentsDB } from "./db.js";
import { resolvers, typeDefs, type PaymentsContext } from "./schema.js";
import { reconcile } from "./reconcile.js";
import { handleWebhook } from "./webhooks.js";

/** Provider hosts (sandbox by default) and our public address, used to build signed requests. */
const providerConfig = {
  MOMO_ENDPOINT: z.url().default("https://test-payment.momo.vn"),
  ZALOPAY_ENDPOINT: z.url().default("https://sb-openapi.zalopay.vn"),
  VNPAY_ENDPOINT: z.url().default("https://sandbox.vnpayment.vn"),
  PUBLIC_URL: z.url().default("http://localhost:4000"),
  /** A callback later than this is considered missed and the provider is asked. */
  RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(0).default(300),
};

const { config, log, database } = await bootDatabaseService<PaymentsDB, typeof providerConfig>({
  schema: "payments",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
  extraConfig: providerConfig,
});
const { db, pool } = database;
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "payments", log });
const deps = { db, ports: config, log };

// Users by their access token (no service calls this subschema as `system`).
const callerOf = serviceCallers(config);

await startService({
  config,
  log,
  readiness: { database: () => pingDatabase(pool) },
  routes(app) {
    // Internal: the edge forwards provider webhooks here through Dapr service invocation, with
    // the body (MoMo, ZaloPay) and the query string (VNPay) exactly as the provider sent them.
    app.all("/v1/webhooks/:provider", async (req, res) => {
      const provider = PaymentProvider.safeParse(req.params.provider);
      if (!provider.success) {
        res.status(404).json({ error: { code: "NOT_FOUND", message: "unknown payment provider" } });
        return;
      }
      const expected = provider.data === "vnpay" ? "GET" : "POST";
      if (req.method !== expected) {
        res
          .status(405)
          .json({ error: { code: "BAD_USER_INPUT", message: `${provider.data} webhooks use ${expected}` } });
        return;
      }
      const queryAt = req.originalUrl.indexOf("?");
      const raw = {
        body: rawBodyOf(req)?.toString("utf8") ?? "",
        query: queryAt < 0 ? "" : req.originalUrl.slice(queryAt + 1),
        receivedAt: new Date(),
      };
      const reply = await handleWebhook(deps, provider.data, raw);
      if (reply.body === undefined) res.status(reply.status).end();
      else res.status(reply.status).json(reply.body);
    });
    // Input binding `reconcile-cron`: Dapr POSTs here on its schedule (components/local/payments.yaml).
    app.post("/reconcile-cron", async (_req, res) => {
      res.json(await reconcile(deps, { minAgeMs: config.RECONCILE_AFTER_SECONDS * 1000 }));
    });
    mountSubschema<PaymentsContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: async ({ request }) => ({
        ...(await callerOf(request.headers)),
        db,
        ports: config,
        log,
        endpoints: config,
      }),
    });
  },
  onShutdown: async () => {
    await stopRelay();
    await db.destroy();
  },
});
