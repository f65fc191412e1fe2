import type { Express, Request } from "express";
import type { Kysely } from "kysely";
import { z } from "zod";
import { AppError } from "@lsp/service-kit";
import type { AuthDB } from "./db.js";
import type { KeyRing } from "./keys.js";
import { createTenantForOwner, grantInTenant, JOIN_CODE, NewTenant } from "./login.js";
import { requestOtp, verifyOtp, type OtpDeps } from "./otp.js";
import { parseVietnameseMobile } from "./phone.js";
import { issueTokens, logout, rotateRefreshToken } from "./tokens.js";

/** Headers the edge sets on the pass-through (auth is reachable only through Dapr). */
const TENANT_HEADER = "x-lsp-tenant-id";
const CLIENT_IP_HEADER = "x-lsp-client-ip";

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
  db: Kysely<AuthDB>;
  ring: KeyRing;
  otp: () => OtpDeps;
}

/** The public REST API (through the edge's `/api/v1/auth/*` pass-through) and the JWKS. */
export function mountAuthApi(app: Express, deps: ApiDeps): void {
  app.post("/api/v1/auth/otp/request", async (req, res) => {
    const { phone } = OtpRequest.parse(req.body);
    res.status(202).json(await requestOtp(deps.otp(), phone, clientIp(req)));
  });

  app.post("/api/v1/auth/otp/verify", async (req, res) => {
    const body = OtpVerify.parse(req.body);
    const tenantId = body.newTenant ? undefined : requireTenant(req);
    await verifyOtp(deps.otp(), body.phone, body.code);
    const grant = body.newTenant
      ? await createTenantForOwner(deps.db, body.phone, body.newTenant)
      : await grantInTenant(deps.db, tenantId ?? "", body.phone, body.joinCode);
    res.json({
      ...(await issueTokens(deps.db, deps.ring, grant)),
      tenantId: grant.tenantId,
      role: grant.role,
    });
  });

  app.post("/api/v1/auth/refresh", async (req, res) => {
    const { refreshToken } = RefreshBody.parse(req.body);
    res.json(await rotateRefreshToken(deps.db, deps.ring, requireTenant(req), refreshToken));
  });

  app.post("/api/v1/auth/logout", async (req, res) => {
    const { refreshToken } = RefreshBody.parse(req.body);
    await logout(deps.db, requireTenant(req), refreshToken);
    res.status(204).end();
  });

  const jwks = (_req: Request, res: import("express").Response) => {
    res.set("cache-control", "public, max-age=60").json(deps.ring.jwks());
  };
  app.get("/.well-known/jwks.json", jwks);
  app.get("/api/v1/auth/.well-known/jwks.json", jwks);

  // Internal (Dapr invocation only, never passed through by the edge): an operator rotates the
  // signing key after adding the new one to the secret store.
  app.post("/v1/keys/rotate", async (_req, res) => {
    res.json(await deps.ring.rotate());
  });
}
