import express, { type Express } from "express";
import { z } from "zod";
import { AppError, rawBodyOf } from "@lsp/runtime";
import { invokeService, type SidecarPorts } from "@lsp/dapr";
import { clientAddress } from "./auth-passthrough.js";

/** The providers we take notices from, and the methods each calls with. */
const PROVIDERS: Record<string, readonly string[]> = {
  momo: ["POST"],
  zalopay: ["POST"],
  vnpay: ["GET"],
};

/** payments' answer to an enveloped call: what the provider must get, inside a 200 for Dapr. */
const Envelope = z.object({
  status: z.number().int().min(200).max(499),
  contentType: z.string().max(200).optional(),
  body: z.string(),
});

function envelopeOf(body: Buffer): z.infer<typeof Envelope> | undefined {
  try {
    const parsed = Envelope.safeParse(JSON.parse(body.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * REST pass-through for payment providers: `/api/v1/webhooks/{momo,zalopay,vnpay}` goes to the
 * payments service through Dapr service invocation with the body bytes and the query string
 * exactly as received (signatures are computed over them), and the provider gets payments'
 * reply unchanged. No tenant or login here: payments trusts only the signature.
 *
 * payments answers a junk or forged notice inside a 200 envelope (`x-lsp-envelope`), so that a
 * flood of bad notices is never counted as failures by the sidecar's circuit breaker on payments,
 * which every genuine notice goes through too.
 */
export function mountWebhooks(app: Express, ports: SidecarPorts, bodyLimit = "64kb"): void {
  app.all(
    "/api/v1/webhooks/:provider",
    // JSON bodies were already read (and kept raw) by the shared parser; this reads any other type.
    express.raw({ type: () => true, limit: bodyLimit }),
    async (req, res, next) => {
      try {
        const provider = String(req.params.provider);
        const methods = PROVIDERS[provider];
        if (!methods) throw new AppError("NOT_FOUND", "no webhook here");
        if (!methods.includes(req.method))
          throw new AppError("NOT_FOUND", `${provider} notices are ${methods.join("/")}`);
        const raw = rawBodyOf(req) ?? (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
        const queryAt = req.originalUrl.indexOf("?");
        const upstream = await invokeService(ports, "payments", `v1/webhooks/${provider}`, {
          method: req.method,
          ...(queryAt < 0 ? {} : { query: req.originalUrl.slice(queryAt) }),
          ...(req.method === "GET" ? {} : { body: raw.toString("utf8") }),
          headers: { "x-lsp-envelope": "1", "x-lsp-client-ip": clientAddress(req) },
          timeoutMs: 10_000,
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        // A 5xx written by the sidecar itself (timeout, open circuit breaker: `{errorCode:"ERR_…"}`)
        // means payments did not answer: the provider gets our typed 503 and calls again.
        if (upstream.status >= 500 && body.includes('"errorCode":"ERR_'))
          throw new AppError("UNAVAILABLE", "payments is not answering; retry later");
        const envelope = upstream.status === 200 ? envelopeOf(body) : undefined;
        if (envelope) {
          res.status(envelope.status);
          if (envelope.contentType) res.type(envelope.contentType);
          res.send(envelope.body);
          return;
        }
        res.status(upstream.status);
        const type = upstream.headers.get("content-type");
        if (type) res.type(type);
        res.send(body);
      } catch (err) {
        next(err);
      }
    },
  );
}
