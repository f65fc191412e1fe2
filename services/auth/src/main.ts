import path from "node:path";
import { z } from "zod";
import { AppError, startService } from "@lsp/runtime";
import { bootDatabaseService, pingDatabase, startOutboxRelay } from "@lsp/db";
import { readSecret, sidecarReady } from "@lsp/dapr";
import { serviceCallers } from "@lsp/identity";
import { mountSubschema } from "@lsp/graphql";
import { mountAuthApi } from "./api.js";
import { DaprState } from "./dapr-state.js";
import type { AuthDB } from "./db.js";
import { ensureFlagCatalogue } from "./flags.js";
import { KeyRing } from "./keys.js";
import { listLocations, requireLocation, tenantBySlug } from "./locations.js";
import type { MembersPolicy } from "./members.js";
import { sweepExpired, type OtpDeps } from "./otp.js";
import { resolvers, typeDefs, type AuthContext } from "./schema.js";
import { smsSender } from "./sms.js";

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const { config, log, database } = await bootDatabaseService<AuthDB>({
  schema: "auth",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
});
// auth's own settings (the OTP policy defaults are the product's; tests shorten some).
const authConfig = {
  AUTH_STATE_STORE: z.string().default("cache"),
  AUTH_OTP_TTL_SECONDS: seconds(120),
  AUTH_OTP_COOLDOWN_SECONDS: seconds(60),
  AUTH_OTP_MAX_ATTEMPTS: seconds(5),
  AUTH_OTP_PHONE_LIMIT: seconds(5),
  AUTH_OTP_PHONE_WINDOW_SECONDS: seconds(3600),
  AUTH_OTP_IP_LIMIT: seconds(30),
  AUTH_OTP_IP_WINDOW_SECONDS: seconds(600),
  AUTH_VERIFY_IP_LIMIT: seconds(60),
  AUTH_VERIFY_IP_WINDOW_SECONDS: seconds(600),
  AUTH_INVITE_TENANT_LIMIT: seconds(20),
  AUTH_INVITE_TENANT_WINDOW_SECONDS: seconds(3600),
  AUTH_INVITE_PHONE_LIMIT: seconds(5),
  AUTH_INVITE_PHONE_WINDOW_SECONDS: seconds(24 * 3600),
  NODE_ENV: z.string().default("development"),
};
const env = z.object(authConfig).parse(process.env);
const { db, pool } = database;
// Feature flags the code knows get their definition row once (never overwritten: the platform
// team's later changes stand); flags.ts.
const newFlags = await ensureFlagCatalogue(db);
if (newFlags) log.info({ newFlags }, "feature flag definitions added from the catalogue");
const slug = z.string().regex(/^[a-z0-9-]{1,63}$/);

const members: MembersPolicy = {
  invitesPerTenant: {
    limit: env.AUTH_INVITE_TENANT_LIMIT,
    windowSeconds: env.AUTH_INVITE_TENANT_WINDOW_SECONDS,
  },
  invitesPerPhone: {
    limit: env.AUTH_INVITE_PHONE_LIMIT,
    windowSeconds: env.AUTH_INVITE_PHONE_WINDOW_SECONDS,
  },
};
// member.changed leaves through the outbox (written in the transaction of the change).
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "auth", log });
// Codes and rate-limit windows that can no longer matter, every few minutes.
const sweeper = setInterval(() => {
  sweepExpired(db).catch((err: unknown) => log.warn({ err }, "sweep of expired codes failed"));
}, 5 * 60_000);
sweeper.unref();

const state = new DaprState(config, env.AUTH_STATE_STORE);
const ring = new KeyRing(config, state);
let otp: OtpDeps | undefined;
// The sidecar may come up after us: keys and the OTP pepper are (re)tried until they load, and
// readiness says so meanwhile.
async function loadSecrets(): Promise<void> {
  for (let attempt = 1; !otp; attempt++) {
    try {
      await ring.load();
      otp = {
        db,
        pepper: await readSecret(config, "secretstore", "auth-otp-pepper"),
        sendSms: smsSender(config),
        log,
        policy: {
          ttlSeconds: env.AUTH_OTP_TTL_SECONDS,
          cooldownSeconds: env.AUTH_OTP_COOLDOWN_SECONDS,
          maxAttempts: env.AUTH_OTP_MAX_ATTEMPTS,
          phoneLimit: env.AUTH_OTP_PHONE_LIMIT,
          phoneWindowSeconds: env.AUTH_OTP_PHONE_WINDOW_SECONDS,
          ipLimit: env.AUTH_OTP_IP_LIMIT,
          ipWindowSeconds: env.AUTH_OTP_IP_WINDOW_SECONDS,
          verifyIpLimit: env.AUTH_VERIFY_IP_LIMIT,
          verifyIpWindowSeconds: env.AUTH_VERIFY_IP_WINDOW_SECONDS,
        },
      };
      log.info({ keys: ring.jwks().keys.length }, "signing keys loaded");
    } catch (err) {
      if (attempt % 10 === 1) log.warn({ err: String(err), attempt }, "secrets not available yet; retrying");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The value, or null when it is NOT_FOUND. */
async function orNull<T>(lookup: Promise<T>): Promise<T | null> {
  try {
    return await lookup;
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") return null;
    throw err;
  }
}

// Users by their access token (checked against auth's own key ring); every app that needs a
// location's settings asks `/v1/locations/:id` as a system caller in the tenant it names.
const callerOf = serviceCallers(config, { ownKeys: async () => ring.jwks() });
const locationReaders = serviceCallers(config, {
  ownKeys: async () => ring.jwks(),
  systemCallers: ["edge", "sales", "dashboard", "payments", "notifications", "ai"],
});

await startService({
  config,
  log,
  readiness: {
    sidecar: () => sidecarReady(config),
    database: () => pingDatabase(database.pool),
    secrets: async () => otp !== undefined,
  },
  routes(app) {
    // Internal API, reached only through Dapr service invocation. "Not found" is a 200 with
    // `null`: Dapr's circuit breaker counts every 4xx as a failure, and a client guessing slugs
    // or ids must not open the breaker that every caller of auth goes through.
    app.get("/v1/tenants/by-slug/:slug", async (req, res) => {
      const parsed = slug.safeParse(req.params.slug);
      res.json(parsed.success ? await orNull(tenantBySlug(db, parsed.data)) : null);
    });
    // The tenant's locations (id, name, time zone, cut-over): dashboard's chain view lists every
    // branch, including those that sold nothing.
    app.get("/v1/locations", async (req, res) => {
      const caller = await locationReaders(req.headers);
      res.json(await listLocations(db, caller.identity()));
    });
    app.get("/v1/locations/:id", async (req, res) => {
      const caller = await locationReaders(req.headers);
      const id = z.uuid().safeParse(req.params.id);
      res.json(id.success ? await orNull(requireLocation(db, caller.identity(), id.data)) : null);
    });
    mountAuthApi(app, {
      log,
      db,
      ring,
      otp: () => {
        if (!otp) throw new Error("secrets not loaded");
        return otp;
      },
    });
    mountSubschema<AuthContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: async ({ request }) => ({
        db,
        identity: (await callerOf(request.headers)).identity,
        sendSms: smsSender(config),
        log,
        members,
      }),
    });
  },
  onShutdown: async () => {
    clearInterval(sweeper);
    await stopRelay();
    await db.destroy();
  },
});
void loadSecrets();
