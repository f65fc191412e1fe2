import type { Express, Request, Response } from "express";
import { z } from "zod";
import { AppError, invokeService, type SidecarPorts } from "@lsp/service-kit";
import { resolveTenant, tenantSlugOf } from "./tenants.js";

const Settings = z.object({
  /** Express `trust proxy` for the client address auth rate-limits on (e.g. "loopback", "10.0.0.0/8"). */
  EDGE_TRUST_PROXY: z.string().optional(),
});

const Envelope = z.object({ status: z.number().int().min(200).max(499), body: z.unknown() });

async function relay(res: Response, upstream: globalThis.Response): Promise<void> {
  const body = Buffer.from(await upstream.arrayBuffer());
  // A 5xx from the sidecar itself (`{"errorCode":"ERR_…"}`): auth did not answer.
  if (upstream.status >= 500 && body.includes('"errorCode":"ERR_'))
    throw new AppError("UNAVAILABLE", "auth is not answering; retry later");
  res.status(upstream.status);
  const type = upstream.headers.get("content-type");
  if (type) res.type(type);
  res.send(body);
}

/** auth's enveloped answer (see ENVELOPE in services/auth/src/api.ts) as the client's response. */
async function unwrap(res: Response, upstream: globalThis.Response): Promise<void> {
  if (upstream.status !== 200) return relay(res, upstream);
  const answer = Envelope.parse(await upstream.json());
  if (answer.body === null) res.status(answer.status).end();
  else res.status(answer.status).json(answer.body);
}

/**
 * REST pass-through of `/api/v1/auth/*` (OTP, refresh, logout) to auth through Dapr service
 * invocation, with the tenant of the address (subdomain or X-Tenant, resolved here: an unknown
 * restaurant is a 404) and the client address for auth's rate limits. Also serves auth's JWKS at
 * `/.well-known/jwks.json`.
 */
export function mountAuthPassThrough(app: Express, ports: SidecarPorts): void {
  const settings = Settings.parse(process.env);
  if (settings.EDGE_TRUST_PROXY) app.set("trust proxy", settings.EDGE_TRUST_PROXY);

  app.post("/api/v1/auth/*path", async (req: Request, res: Response) => {
    const rest = (req.params as { path: string[] }).path.join("/");
    const slug = tenantSlugOf(
      req.headers.host ?? null,
      (req.headers["x-tenant"] as string | undefined) ?? null,
    );
    const tenant = slug ? await resolveTenant(ports, slug) : undefined;
    const upstream = await invokeService(ports, "auth", `api/v1/auth/${rest}`, {
      method: "POST",
      body: JSON.stringify(req.body ?? {}),
      headers: {
        ...(tenant ? { "x-lsp-tenant-id": tenant.id } : {}),
        "x-lsp-client-ip": req.ip ?? "unknown",
        // Client mistakes come back as 200 + {status, body}: they must not trip the breaker.
        "x-lsp-envelope": "1",
      },
      timeoutMs: 10_000,
    });
    await unwrap(res, upstream);
  });

  app.get("/.well-known/jwks.json", async (_req, res) => {
    await relay(res, await invokeService(ports, "auth", ".well-known/jwks.json", { timeoutMs: 3000 }));
  });
}
