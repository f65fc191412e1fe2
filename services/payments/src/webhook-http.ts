import type { ErrorRequestHandler, Express, Request, Response } from "express";
import { PaymentProvider } from "@lsp/contracts";
import { rawBodyOf, toAppError } from "@lsp/runtime";
import type { RawWebhook, Reply } from "./adapters.js";
import { sourceOf, type WebhookGuard } from "./webhook-guard.js";
import { handleWebhook, type WebhookDeps } from "./webhooks.js";

/**
 * The HTTP side of provider webhooks (internal route; the edge forwards them here through Dapr
 * service invocation with the body and the query string exactly as the provider sent them).
 *
 * The envelope: one caller's junk must not open the circuit breaker of the edge's sidecar on
 * payments (Dapr counts every non-2xx answer as a failure). When the edge asks for it with
 * `x-lsp-envelope: 1`, every answer that is not a server fault goes back as HTTP 200 with
 * `{status, contentType, body}`: the status, content type and exact body the provider must get,
 * which the edge unwraps. A real server fault (5xx) stays a 5xx, so that breakers still see it.
 */
export const ENVELOPE_HEADER = "x-lsp-envelope";
export const CLIENT_IP_HEADER = "x-lsp-client-ip";

/** What the provider must get, byte for byte. */
export interface ProviderAnswer {
  status: number;
  contentType: string;
  body: string;
}

const JSON_TYPE = "application/json; charset=utf-8";

export function answerOf(reply: Reply): ProviderAnswer {
  return {
    status: reply.status,
    // Every body we answer is JSON; a body-less answer (MoMo's 204) says so with "".
    contentType: JSON_TYPE,
    body: reply.body === undefined ? "" : JSON.stringify(reply.body),
  };
}

export function wantsEnvelope(req: Request): boolean {
  return req.get(ENVELOPE_HEADER) === "1";
}

/** Sends the answer as is, or enveloped (200) when asked and it is not a server fault. */
export function sendAnswer(res: Response, answer: ProviderAnswer, envelope: boolean): void {
  if (envelope && answer.status < 500) {
    res.status(200).json(answer);
    return;
  }
  res.status(answer.status);
  if (answer.body === "") res.end();
  else res.type(answer.contentType).send(answer.body);
}

function rawOf(req: Request): RawWebhook {
  const queryAt = req.originalUrl.indexOf("?");
  return {
    body: rawBodyOf(req)?.toString("utf8") ?? "",
    query: queryAt < 0 ? "" : req.originalUrl.slice(queryAt + 1),
    receivedAt: new Date(),
  };
}

const restError = (status: number, code: string, message: string): ProviderAnswer =>
  answerOf({ status, body: { error: { code, message } } });

export function mountWebhookRoutes(app: Express, deps: WebhookDeps, guard: WebhookGuard): void {
  const answer = async (req: Request, res: Response): Promise<void> => {
    const envelope = wantsEnvelope(req);
    const provider = PaymentProvider.safeParse(req.params.provider);
    if (!provider.success) {
      sendAnswer(res, restError(404, "NOT_FOUND", "unknown payment provider"), envelope);
      return;
    }
    const expected = provider.data === "vnpay" ? "GET" : "POST";
    if (req.method !== expected) {
      sendAnswer(
        res,
        restError(405, "BAD_USER_INPUT", `${provider.data} webhooks use ${expected}`),
        envelope,
      );
      return;
    }
    const source = { address: sourceOf(req.headers[CLIENT_IP_HEADER]), guard };
    const reply = await handleWebhook(deps, provider.data, rawOf(req), source);
    sendAnswer(res, answerOf(reply), envelope);
  };

  app.all("/v1/webhooks/:provider", answer);

  // The shared plumbing (content type, JSON parser) runs before any route: a body that is not
  // JSON fails there. For a webhook that is the provider's (or a forger's) malformed notice,
  // answered and audited like any other; any other client error (too large, wrong type) is
  // answered typed and, when asked, enveloped like every other client error.
  const plumbingFailures: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if ((err as { type?: unknown } | null)?.type === "entity.parse.failed") {
      answer(req, res).catch(next);
      return;
    }
    const appError = toAppError(err);
    if (appError.status >= 500) {
      next(err);
      return;
    }
    sendAnswer(res, restError(appError.status, appError.code, appError.message), wantsEnvelope(req));
  };
  app.use("/v1/webhooks/:provider", plumbingFailures);
}
