import type { Express } from "express";
import { z } from "zod";
import { AppError, type SidecarPorts } from "@lsp/service-kit";

/** The output binding every SMS leaves through (dev: auth's own sink; production: the provider). */
export const SMS_BINDING = "sms";

export function smsSender(ports: SidecarPorts): (to: string, text: string) => Promise<void> {
  return async (to, text) => {
    let res: Response;
    try {
      res = await fetch(`http://127.0.0.1:${ports.DAPR_HTTP_PORT}/v1.0/bindings/${SMS_BINDING}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ operation: "post", data: { to, text } }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new AppError("UNAVAILABLE", "SMS could not be sent", { cause: String(err) });
    }
    if (!res.ok) throw new AppError("UNAVAILABLE", `SMS could not be sent (${res.status})`);
  };
}

const Sms = z.object({ to: z.string(), text: z.string() });
const KEEP = 2000;

/**
 * DEV ONLY: where the `sms` binding delivers in the local mesh. It keeps the last messages in
 * memory so that a developer (curl) and the tests can read the code that was "sent". Not mounted
 * in production images (NODE_ENV=production) unless AUTH_DEV_SMS_SINK=true.
 */
export function mountDevSmsSink(app: Express): void {
  const messages: { to: string; text: string; at: string }[] = [];
  app.post("/dev/sms-sink", (req, res) => {
    const sms = Sms.parse(req.body);
    messages.push({ ...sms, at: new Date().toISOString() });
    if (messages.length > KEEP) messages.splice(0, messages.length - KEEP);
    res.status(204).end();
  });
  app.get("/dev/sms-sink", (req, res) => {
    const to = typeof req.query.to === "string" ? req.query.to : undefined;
    res.json(messages.filter((m) => !to || m.to === to).reverse());
  });
}
