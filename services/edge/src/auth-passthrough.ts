import type { IncomingMessage } from "node:http";
import type { Express, Request, Response } from "express";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { invokeService, type SidecarPorts } from "@lsp/dapr";
import { resolveTenant, tenantSlugOf } from "./tenants.js";

export const ClientAddressConfig = z.object({
  /**
   * How many proxies in front of the edge append to X-Forwarded-For (the ingress: 1). The client
   * address is the one that many hops back; with 0 it is the TCP peer and the header is ignored,
   * so a client cannot choose the address auth and payments rate-limit on.
   */
  EDGE_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
});

/** The four routes of auth's public REST API, and nothing else under /api/v1/auth. */
export const AUTH_ROUTES = ["otp/request", "otp/verify", "refresh", "logout"] as const;

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

/** The client's address of an Express request: `trust proxy` is set to the hop count below. */
export function clientAddress(req: Request): string {
  return req.ip ?? "unknown";
}

/**
 * The same for a bare request (a WebSocket upgrade): the TCP peer, or the address `hops` entries
 * back in X-Forwarded-For, counted from the right, as Express's `trust proxy` does with a number.
 */
export function upgradeClientAddress(req: IncomingMessage, hops: number): string {
  const forwarded = String(req.headers["x-forwarded-for"] ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean)
    .reverse();
  const chain = [req.socket.remoteAddress ?? "unknown", ...forwarded];
  return chain[Math.min(hops, chain.length - 1)] ?? "unknown";
}

/**
 * REST pass-through of auth's four public routes (OTP request and verify, refresh, logout) to
 * auth through Dapr service invocation, with the tenant of the address (subdomain or X-Tenant,
 * resolved here: an unknown restaurant is a 404) and the client address for auth's rate limits.
 * Any other path under /api/v1/auth is a 404 here and never reaches a sidecar. Also serves
 * auth's JWKS at `/.well-known/jwks.json`.
 */
export function mountAuthPassThrough(app: Express, ports: SidecarPorts, hops: number): void {
  app.set("trust proxy", hops);

  for (const route of AUTH_ROUTES) {
    app.post(`/api/v1/auth/${route}`, async (req: Request, res: Response) => {
      const slug = tenantSlugOf(
        req.headers.host ?? null,
        (req.headers["x-tenant"] as string | undefined) ?? null,
      );
      const tenant = slug ? await resolveTenant(ports, slug) : undefined;
      const upstream = await invokeService(ports, "auth", `api/v1/auth/${route}`, {
        method: "POST",
        body: JSON.stringify(req.body ?? {}),
        headers: {
          ...(tenant ? { "x-lsp-tenant-id": tenant.id } : {}),
          "x-lsp-client-ip": clientAddress(req),
          // Client mistakes come back as 200 + {status, body}: they must not trip the breaker.
          "x-lsp-envelope": "1",
        },
        timeoutMs: 10_000,
      });
      await unwrap(res, upstream);
    });
  }

  app.get("/.well-known/jwks.json", async (_req, res) => {
    await relay(res, await invokeService(ports, "auth", ".well-known/jwks.json", { timeoutMs: 3000 }));
  });
}
