import type { Express } from "express";

/**
 * DEV ONLY: the target of the `push` binding in the local mesh, standing in for FCM. It keeps the
 * last messages in memory for tests and can be told to fail, to exercise retries and dead letters.
 * Off when NODE_ENV=production (the images) or DEV_PUSH_SINK=false; there the binding points at FCM.
 */
export function mountDevPushSink(app: Express): void {
  const received: unknown[] = [];
  let failing = false;
  app.post("/dev/push-sink", (req, res) => {
    if (failing) {
      res.status(503).json({ error: { code: "UNAVAILABLE", message: "dev push sink told to fail" } });
      return;
    }
    received.push(req.body);
    if (received.length > 1000) received.shift();
    res.json({ name: `projects/lsp-dev/messages/${received.length}` });
  });
  app.get("/dev/push-sink", (_req, res) => void res.json({ failing, messages: received }));
  app.post("/dev/push-sink/failing", (req, res) => {
    failing = (req.body as { failing?: unknown })?.failing === true;
    res.json({ failing });
  });
}
