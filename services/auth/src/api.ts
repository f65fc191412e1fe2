import type { Express, Request, Response } from "express";
import type { Kysely } from "kysely";
import { z } from "zod";
import { AppError, toAppError, type Logger } from "@lsp/runtime";
import type { AuthDB } from "./db.js";
import type { KeyRing } from "./keys.js";
import { createTenantForOwner, grantInTenant, JOIN_CODE, NewTenant } from "./login.js";
import { requestOtp, verifyOtp, type OtpDeps } from "./otp.js";
import { parseVietnameseMobile } from "./phone.js";
import { issueTokens, logout, rotateRefreshToken } from "./tokens.js";

/** Headers the edge sets on the pass-through (auth is reachable only through Dapr). */
const TENANT_HEADER = "x-lsp-tenant-id";
const CLIENT_IP_HEADER = "x-lsp-client-ip";
/**
 * The edge asks for answers wrapped as 200 `{status, body}`: Dapr's circuit breaker counts every
 * non-2xx invocation as a failure, and a client's wrong code (401) or rate limit (429) must not
 * open the breaker to auth for everybody. Real failures (5xx) stay 5xx.
 */
const ENVELOPE_HEADER = "x-lsp-envelope";

const Phone = z
  .string()
  .max(40)
  .transform((p) => parseVietnameseMobile(p));
const OtpRequest = z.object({ phone: Phone });
const OtpVerify = z.object({
  phone: Phone,
  code: z.string().regex(/^\d{6}$/, "six digits"),
  joinCode: z.string().trim().toUpperCase().regex(JOIN_CODE, "eight letters or digits").optional(),
  newTenant: NewTenant.optional(),
});
const RefreshBody = z.object({ refreshToken: z.string().min(20).max(200) });

function tenantOf(req: Request): string | undefined {
  const raw = req.headers[TENANT_HEADER];
  if (raw === undefined) return undefined;
  return z.uuid().parse(raw);
}

function requireTenant(req: Request): string {
  const tenantId = tenantOf(req);
  if (!tenantId)
    throw new AppError(
      "BAD_USER_INPUT",
      "which restaurant? call <tenant>.<host> or send the X-Tenant header",
      {
        field: "tenant",
      },
    );
  return tenantId;
}

function clientIp(req: Request): string {
  const forwarded = req.headers[CLIENT_IP_HEADER];
  return (typeof forwarded === "string" && forwarded) || req.ip || "unknown";
}

export interface ApiDeps {
  log: Logger;
  db: Kysely<AuthDB>;
  ring: KeyRing;
  otp: () => OtpDeps;
}

/** The public REST API (through the edge's `/api/v1/auth/*` pass-through) and the JWKS. */
type Answer = { status: number; body?: unknown };

function route(log: Logger, handle: (req: Request) => Promise<Answer>) {
  return async (req: Request, res: Response) => {
    let answer: Answer;
    try {
      answer = await handle(req);
    } catch (err) {
      const e = toAppError(err);
      if (e.code === "INTERNAL") log.error({ err, path: req.path }, "unhandled error");
      else log.info({ code: e.code, path: req.path }, e.message);
      answer = { status: e.status, body: { error: { code: e.code, message: e.message, ...e.details } } };
    }
    if (req.headers[ENVELOPE_HEADER] === "1" && answer.status < 500)
      res.status(200).json({ status: answer.status, body: answer.body ?? null });
    else if (answer.body === undefined) res.status(answer.status).end();
    else res.status(answer.status).json(answer.body);
  };
}

/** The public REST API (through the edge's `/api/v1/auth/*` pass-through) and the JWKS. */
export function mountAuthApi(app: Express, deps: ApiDeps): void {
  const { log } = deps;
  app.post(
    "/api/v1/auth/otp/request",
    route(log, async (req) => {
      const { phone } = OtpRequest.parse(req.body);
      return { status: 202, body: await requestOtp(deps.otp(), phone, clientIp(req)) };
    }),
  );

  app.post(
    "/api/v1/auth/otp/verify",
    route(log, async (req) => {
      const body = OtpVerify.parse(req.body);
      const tenantId = body.newTenant ? undefined : requireTenant(req);
      await verifyOtp(deps.otp(), body.phone, body.code, clientIp(req));
      const grant = body.newTenant
        ? await createTenantForOwner(deps.db, body.phone, body.newTenant)
        : await grantInTenant(deps.db, tenantId ?? "", body.phone, body.joinCode);
      const tokens = await issueTokens(deps.db, deps.ring, grant);
      return { status: 200, body: { ...tokens, tenantId: grant.tenantId, role: grant.role } };
    }),
  );

  app.post(
    "/api/v1/auth/refresh",
    route(log, async (req) => {
      const { refreshToken } = RefreshBody.parse(req.body);
      return {
        status: 200,
        body: await rotateRefreshToken(deps.db, deps.ring, requireTenant(req), refreshToken),
      };
    }),
  );

  app.post(
    "/api/v1/auth/logout",
    route(log, async (req) => {
      const { refreshToken } = RefreshBody.parse(req.body);
      await logout(deps.db, requireTenant(req), refreshToken);
      return { status: 204 };
    }),
  );

  const jwks = (_req: Request, res: Response) => {
    res.set("cache-control", "public, max-age=60").json(deps.ring.jwks());
  };
  app.get("/.well-known/jwks.json", jwks);

  // Internal (Dapr invocation only, never passed through by the edge): an operator rotates the
  // signing key after adding the new one to the secret store.
  app.post("/v1/keys/rotate", async (_req, res) => {
    res.json(await deps.ring.rotate());
  });
}
