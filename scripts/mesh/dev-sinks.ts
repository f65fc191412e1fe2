/**
 * DEV ONLY: where the `sms` and `push` output bindings deliver in the local mesh, standing in for
 * the SMS provider and FCM. A process of the launcher, not of any app: no app and no sidecar can
 * read what was "sent" (login codes among it); developers and tests read it here.
 *
 *   POST /sms   {to, text}           what the sms binding sends     GET /sms?to=+84…  newest first
 *   POST /push  <FCM message>        what the push binding sends    GET /push         {failing, messages}
 *   POST /push/failing {failing}     make the push target fail (retries and dead letters in tests)
 *
 * Usage: node --import tsx scripts/mesh/dev-sinks.ts <port>
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";

const KEEP = 2000;
const MAX_BODY = 64 * 1024;

interface Sms {
  to: string;
  text: string;
  at: string;
}

export function devSinksServer() {
  const sms: Sms[] = [];
  const pushes: unknown[] = [];
  let failing = false;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new Error("body too large");
      chunks.push(chunk);
    }
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
  };

  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method} ${url.pathname}`;
    void (async () => {
      try {
        if (route === "POST /sms") {
          const body = (await readJson(req)) as Partial<Sms> | null;
          if (typeof body?.to !== "string" || typeof body.text !== "string")
            return json(res, 400, { error: "expected {to, text}" });
          sms.push({ to: body.to, text: body.text, at: new Date().toISOString() });
          if (sms.length > KEEP) sms.splice(0, sms.length - KEEP);
          return res.writeHead(204).end();
        }
        if (route === "GET /sms") {
          const to = url.searchParams.get("to");
          return json(res, 200, sms.filter((m) => !to || m.to === to).reverse());
        }
        if (route === "POST /push") {
          const body = await readJson(req);
          if (failing) return json(res, 503, { error: "dev push sink told to fail" });
          pushes.push(body);
          if (pushes.length > KEEP) pushes.shift();
          return json(res, 200, { name: `projects/lsp-dev/messages/${pushes.length}` });
        }
        if (route === "GET /push") return json(res, 200, { failing, messages: pushes });
        if (route === "POST /push/failing") {
          failing = ((await readJson(req)) as { failing?: unknown } | null)?.failing === true;
          return json(res, 200, { failing });
        }
        if (route === "GET /healthz") return json(res, 200, { status: "ok" });
        return json(res, 404, { error: `no route ${route}` });
      } catch (err) {
        return json(res, 400, { error: String(err) });
      }
    })();
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2]);
  devSinksServer().listen(port, "127.0.0.1", () =>
    console.log(JSON.stringify({ msg: "dev sinks listening", port })),
  );
}
