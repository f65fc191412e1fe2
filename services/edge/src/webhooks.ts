import express, { type Express } from "express";
import { AppError, invokeService, rawBodyOf, type SidecarPorts } from "@lsp/service-kit";

const PROVIDERS = new Set(["momo", "zalopay", "vnpay"]);

/**
 * REST pass-through for payment providers: `/api/v1/webhooks/{momo,zalopay,vnpay}` goes to the
 * payments service through Dapr service invocation with the body bytes and the query string
 * exactly as received (signatures are computed over them), and the provider gets payments'
 * reply unchanged. No tenant or login here: payments trusts only the signature.
 */
export function mountWebhooks(app: Express, ports: SidecarPorts, bodyLimit = "64kb"): void {
  app.all(
    "/api/v1/webhooks/:provider",
    // JSON bodies were already read (and kept raw) by the shared parser; this reads any other type.
    express.raw({ type: () => true, limit: bodyLimit }),
    async (req, res, next) => {
      try {
        const provider = String(req.params.provider);
        if (!PROVIDERS.has(provider)) throw new AppError("NOT_FOUND", `no webhook for ${provider}`);
        const raw = rawBodyOf(req) ?? (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
        const queryAt = req.originalUrl.indexOf("?");
        const query = queryAt < 0 ? "" : req.originalUrl.slice(queryAt);
        const upstream = await invokeService(ports, "payments", `v1/webhooks/${provider}${query}`, {
          method: req.method,
          ...(req.method === "GET" || req.method === "HEAD" ? {} : { body: raw.toString("utf8") }),
          timeoutMs: 10_000,
        });
        const body = Buffer.from(await upstream.arrayBuffer());
        // A 5xx written by the sidecar itself (timeout, open circuit breaker: `{errorCode:"ERR_…"}`)
        // means payments did not answer: the provider gets our typed 503 and calls again.
        if (upstream.status >= 500 && body.includes('"errorCode":"ERR_'))
          throw new AppError("UNAVAILABLE", "payments is not answering; retry later");
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
