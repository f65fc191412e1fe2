import { Readable } from "node:stream";
import { Pool, type Dispatcher } from "undici";
import { z } from "zod";
import { AppError, DAPR_TOKEN_HEADER } from "@lsp/runtime";

/**
 * How an app reaches its own sidecar: its ports and the Dapr API token the sidecar demands of
 * every API call (DAPR_API_TOKEN; without it the sidecar answers 401). Every call below goes
 * through `sidecarFetch`, the one place that builds a sidecar URL and adds the token.
 */
export interface SidecarPorts {
  DAPR_HTTP_PORT: number;
  DAPR_GRPC_PORT: number;
  DAPR_API_TOKEN?: string | undefined;
  /**
   * What this app may invoke, from components/access.yaml (`{"auth": ["GET /v1/locations/*"]}`,
   * set by the launcher and the chart). When given, any other call is refused here, before it
   * reaches the sidecar; the callee's access control refuses it again.
   */
  LSP_ALLOWED_INVOCATIONS?: string | undefined;
}

/** The header the sidecar checks (app → sidecar) and sends (sidecar → app): @lsp/runtime's. */
export { DAPR_TOKEN_HEADER };

const APP_ID = /^[a-z][a-z0-9-]{0,62}$/;
/** An actor type or method as the hosts register them (identifiers: `LocationInsights`, `Forecast`). */
const ACTOR_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
/** A component (pub/sub, store, binding) or topic name. */
export const COMPONENT = /^[a-z][a-z0-9-]{0,62}$/;
// A method path: segments of unreserved characters only. No dot segments, no percent-escapes
// (an encoded slash or dot is how a path escapes its prefix), no empty segments.
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/**
 * A method path as Dapr will route it, or a refusal: only plain segments, none of them `.`/`..`,
 * so that what the caller names is exactly what the callee's access control sees.
 */
export function checkMethodPath(method: string): string {
  const path = method.replace(/^\/+/, "");
  const segments = path.split("/");
  if (!path || segments.some((s) => !SEGMENT.test(s) || s === "." || s === ".."))
    throw new AppError("BAD_USER_INPUT", "refused: not a plain method path");
  return path;
}

/** A query string for an invocation (`?a=b&c=d`, or empty): no fragment, no path characters. */
function checkQuery(query: string | undefined): string {
  if (!query) return "";
  if (!/^\?[A-Za-z0-9._~\-%&=+*,;:@!$'()/?]*$/.test(query) || query.includes("#"))
    throw new AppError("BAD_USER_INPUT", "refused: malformed query string");
  return query;
}

interface SidecarInit {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** The whole call: until the answer's head, and again until its body is read. */
  timeoutMs?: number;
  /**
   * Hand the answer's body over as a stream instead of reading it first (a long CSV export):
   * the caller reads or cancels it.
   */
  stream?: boolean;
}

/**
 * One connection pool per sidecar (keyed by its HTTP port), on undici's own request API rather
 * than the global `fetch`: fetch's WHATWG machinery (request objects, streams, abort signals) cost
 * about 0.5 ms of CPU per call on this project's 2-core machine, undici's `request` a fifth of
 * that (bench in packages/dapr/README.md), and every app makes several sidecar calls per request.
 * The OpenTelemetry undici instrumentation sees these requests too (undici's diagnostics
 * channels), so `traceparent` goes on as before.
 */
const pools = new Map<number, Pool>();
function poolFor(port: number): Pool {
  let pool = pools.get(port);
  if (!pool) {
    pool = new Pool(`http://127.0.0.1:${port}`);
    pools.set(port, pool);
  }
  return pool;
}

/** The answer's headers as a WHATWG Headers (a header sent twice: both values, comma-joined). */
function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/**
 * One call to the sidecar's HTTP API (`/v1.0/<api>`), with the API token; transport failures
 * (and a call over its time) are UNAVAILABLE. The answer is a WHATWG Response whose body was
 * already read (or, with `stream`, a stream of it).
 */
export async function sidecarFetch(
  ports: SidecarPorts,
  api: string,
  init: SidecarInit = {},
  what = "the sidecar",
): Promise<Response> {
  const timeoutMs = init.timeoutMs ?? 5000;
  try {
    const answer = await poolFor(ports.DAPR_HTTP_PORT).request({
      path: `/v1.0/${api}`,
      method: (init.method ?? (init.body === undefined ? "GET" : "POST")) as Dispatcher.HttpMethod,
      headers: {
        "content-type": "application/json",
        ...init.headers,
        ...(ports.DAPR_API_TOKEN ? { [DAPR_TOKEN_HEADER]: ports.DAPR_API_TOKEN } : {}),
      },
      ...(init.body === undefined ? {} : { body: init.body }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    // A status without a body (204, 304) must not be given one, not even an empty one.
    const bodyless = answer.statusCode === 204 || answer.statusCode === 304;
    const headers = headersOf(answer.headers);
    if (init.stream && !bodyless)
      return new Response(Readable.toWeb(answer.body) as ReadableStream<Uint8Array>, {
        status: answer.statusCode,
        headers,
      });
    const body = bodyless ? (await answer.body.dump(), null) : Buffer.from(await answer.body.arrayBuffer());
    return new Response(body, { status: answer.statusCode, headers });
  } catch (err) {
    throw new AppError("UNAVAILABLE", `${what} is unreachable`, { cause: String(err) });
  }
}

/** True when the sidecar's components are loaded (its outbound readiness; it does not wait for us). */
export async function sidecarReady(ports: SidecarPorts): Promise<boolean> {
  try {
    const res = await sidecarFetch(ports, "healthz/outbound", { timeoutMs: 1000 });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Dapr service invocation of `method` on `appId`. The path must be plain (see checkMethodPath):
 * this client never forwards a path a caller could have smuggled `..` or `%2F` into. We use HTTP
 * here (not the SDK's gRPC transport) because the OTel HTTP/undici instrumentation then propagates
 * `traceparent` to the callee; the SDK's gRPC client has no per-call metadata hook.
 */
export async function invokeService(
  ports: SidecarPorts,
  appId: string,
  method: string,
  init: SidecarInit & { query?: string } = {},
): Promise<Response> {
  if (!APP_ID.test(appId)) throw new AppError("BAD_USER_INPUT", "refused: not an app id");
  const plain = checkMethodPath(method);
  const verb = (init.method ?? (init.body === undefined ? "GET" : "POST")).toUpperCase();
  if (!invocationAllowed(ports.LSP_ALLOWED_INVOCATIONS, appId, verb, plain))
    throw new AppError("FORBIDDEN", `refused: ${verb} /${plain} on ${appId} is not an allowed invocation`);
  return sidecarFetch(ports, `invoke/${appId}/method/${plain}${checkQuery(init.query)}`, init, appId);
}

const allowLists = new Map<string, Record<string, string[]>>();

/**
 * Whether `verb /path` on `appId` is in the allow-list (Dapr ACL syntax: `/*` one segment, `/**`
 * the rest); true when no list is configured (unit tests, tools).
 */
export function invocationAllowed(
  list: string | undefined,
  appId: string,
  verb: string,
  path: string,
): boolean {
  if (list === undefined) return true;
  let parsed = allowLists.get(list);
  if (!parsed) {
    parsed = JSON.parse(list) as Record<string, string[]>;
    allowLists.set(list, parsed);
  }
  const segments = path.split("/");
  return (parsed[appId] ?? []).some((op) => {
    const [opVerb, opPath = ""] = op.split(" ");
    if (opVerb !== verb) return false;
    const pattern = opPath.replace(/^\//, "").split("/");
    if (pattern[pattern.length - 1] === "**")
      return pattern.slice(0, -1).every((p, i) => p === "*" || p === segments[i]);
    return pattern.length === segments.length && pattern.every((p, i) => p === "*" || p === segments[i]);
  });
}

/** Publishes one CloudEvent (`application/cloudevents+json`) to a topic; throws unless accepted. */
export async function publishEvent(
  ports: SidecarPorts,
  pubsub: string,
  topic: string,
  cloudEvent: string,
): Promise<void> {
  if (!COMPONENT.test(pubsub) || !COMPONENT.test(topic))
    throw new AppError("BAD_USER_INPUT", "refused: not a pub/sub or topic name");
  const res = await sidecarFetch(ports, `publish/${pubsub}/${topic}`, {
    method: "POST",
    body: cloudEvent,
    headers: { "content-type": "application/cloudevents+json" },
  });
  if (!res.ok)
    throw new AppError("UNAVAILABLE", `publish to ${topic} failed: ${res.status} ${await res.text()}`);
}

/** One entry of a bulk publish: its id within the request (unique, non-empty) and a CloudEvent. */
export interface BulkPublishEntry {
  entryId: string;
  /** A CloudEvent (`application/cloudevents+json`), passed through with its id, type and traceparent. */
  cloudEvent: Record<string, unknown>;
}

/** What the sidecar did with a bulk publish: the ids it accepted and the ids it did not, with why. */
export interface BulkPublishResult {
  accepted: string[];
  failed: { entryId: string; error: string }[];
}

const BulkPublishFailure = z.object({
  failedEntries: z
    .array(z.object({ entryId: z.string(), error: z.string().optional() }))
    .nullable()
    .optional(),
  errorCode: z.string().optional(),
});

/**
 * Dapr bulk publish (`POST /v1.0/publish/bulk/<pubsub>/<topic>`; Dapr 1.18 serves it on v1.0 as
 * well as v1.0-alpha1). The sidecar answers 204 when every entry reached the broker, and 500
 * with `{failedEntries: [{entryId, error}], errorCode}` when some did not: the others were
 * published (pkg/api/http/http.go onBulkPublish). Any other answer (403 topic not allowed, 404
 * no such pub/sub, 400 malformed) and a sidecar that cannot be reached fail every entry. Never
 * throws for a refusal: the caller decides per entry.
 *
 * Order: a component without native bulk publish (Redis streams among them) gets the entries as
 * parallel single publishes, so entries of one request may reach the broker in any order. A
 * caller that needs an order between two events puts them in successive requests.
 */
export async function bulkPublishEvents(
  ports: SidecarPorts,
  pubsub: string,
  topic: string,
  entries: readonly BulkPublishEntry[],
  timeoutMs = 10_000,
): Promise<BulkPublishResult> {
  if (!COMPONENT.test(pubsub) || !COMPONENT.test(topic))
    throw new AppError("BAD_USER_INPUT", "refused: not a pub/sub or topic name");
  if (entries.length === 0) return { accepted: [], failed: [] };
  const ids = entries.map((e) => e.entryId);
  if (ids.some((id) => id === "") || new Set(ids).size !== ids.length)
    throw new AppError("BAD_USER_INPUT", "refused: bulk entry ids must be unique and non-empty");
  const all = (error: string): BulkPublishResult => ({
    accepted: [],
    failed: ids.map((entryId) => ({ entryId, error })),
  });
  let res: Response;
  try {
    res = await sidecarFetch(ports, `publish/bulk/${pubsub}/${topic}`, {
      method: "POST",
      body: JSON.stringify(
        entries.map((e) => ({
          entryId: e.entryId,
          event: e.cloudEvent,
          contentType: "application/cloudevents+json",
        })),
      ),
      timeoutMs,
    });
  } catch (err) {
    return all(err instanceof Error ? err.message : String(err));
  }
  if (res.ok) {
    await res.body?.cancel();
    return { accepted: ids, failed: [] };
  }
  const text = await res.text();
  let parsed: z.infer<typeof BulkPublishFailure> | undefined;
  try {
    const result = BulkPublishFailure.safeParse(JSON.parse(text));
    if (result.success) parsed = result.data;
  } catch {
    parsed = undefined;
  }
  // Only a 500 naming its failed entries is partial; anything else refused the whole request.
  if (res.status !== 500 || !parsed?.failedEntries?.length)
    return all(`bulk publish to ${topic}: ${res.status} ${text.slice(0, 300)}`);
  const known = new Set(ids);
  const failed = parsed.failedEntries
    .filter((f) => known.has(f.entryId))
    .map((f) => ({ entryId: f.entryId, error: f.error ?? parsed.errorCode ?? "failed" }));
  if (failed.length === 0) return all(`bulk publish to ${topic}: ${res.status} ${text.slice(0, 300)}`);
  const failedIds = new Set(failed.map((f) => f.entryId));
  return { accepted: ids.filter((id) => !failedIds.has(id)), failed };
}

/** Calls an output binding's `create` operation; the binding's answer as a Response. */
export async function invokeBinding(
  ports: SidecarPorts,
  binding: string,
  request: { data: unknown; metadata?: Record<string, string>; operation?: string },
  timeoutMs = 10_000,
): Promise<Response> {
  if (!COMPONENT.test(binding)) throw new AppError("BAD_USER_INPUT", "refused: not a binding name");
  return sidecarFetch(
    ports,
    `bindings/${binding}`,
    { method: "POST", body: JSON.stringify({ operation: "create", ...request }), timeoutMs },
    `binding ${binding}`,
  );
}

/** One secret's value from a secret store; UNAVAILABLE when the store refuses or lacks it. */
export async function readSecret(ports: SidecarPorts, store: string, name: string): Promise<string> {
  if (!COMPONENT.test(store)) throw new AppError("BAD_USER_INPUT", "refused: not a secret store name");
  const res = await sidecarFetch(
    ports,
    `secrets/${store}/${encodeURIComponent(name)}`,
    { timeoutMs: 3000 },
    "the secret store",
  );
  if (!res.ok) throw new AppError("UNAVAILABLE", `secret ${name} unavailable (${res.status})`);
  const body = (await res.json()) as Record<string, unknown>;
  const value = body[name];
  if (typeof value !== "string") throw new AppError("UNAVAILABLE", `secret ${name} is empty`);
  return value;
}

/** Dapr state API of one store: get with ETag, save (optionally first-write / TTL), delete. */
export function stateStore(ports: SidecarPorts, store: string, timeoutMs = 3000) {
  if (!COMPONENT.test(store)) throw new AppError("BAD_USER_INPUT", "refused: not a state store name");
  const api = (key?: string) => `state/${store}${key === undefined ? "" : `/${encodeURIComponent(key)}`}`;
  const what = `state store ${store}`;
  return {
    get: (key: string) => sidecarFetch(ports, api(key), { timeoutMs }, what),
    save: (items: unknown[]) =>
      sidecarFetch(ports, api(), { method: "POST", body: JSON.stringify(items), timeoutMs }, what),
    delete: (key: string) => sidecarFetch(ports, api(key), { method: "DELETE", timeoutMs }, what),
    transaction: (operations: unknown[]) =>
      sidecarFetch(
        ports,
        `${api()}/transaction`,
        { method: "POST", body: JSON.stringify({ operations }), timeoutMs },
        what,
      ),
  };
}

/**
 * Calls a method of a Dapr actor (`POST /v1.0/actors/<type>/<id>/method/<method>`): the body is
 * `args` as JSON (an actor host of the JS SDK's convention reads a JSON array of the arguments),
 * the answer is the method's JSON result (its text when not JSON). Over the sidecar's HTTP API,
 * like every other call here: the OTel HTTP/undici instrumentation carries `traceparent` to the
 * actor, and no gRPC client is loaded. UNAVAILABLE when the sidecar or the actor fails.
 */
export async function invokeActor(
  ports: SidecarPorts,
  actorType: string,
  actorId: string,
  method: string,
  args: unknown,
  timeoutMs = 10_000,
): Promise<unknown> {
  if (!ACTOR_NAME.test(actorType)) throw new AppError("BAD_USER_INPUT", "refused: not an actor type");
  if (!actorId) throw new AppError("BAD_USER_INPUT", "refused: empty actor id");
  if (!ACTOR_NAME.test(method)) throw new AppError("BAD_USER_INPUT", "refused: not an actor method name");
  const res = await sidecarFetch(
    ports,
    `actors/${actorType}/${encodeURIComponent(actorId)}/method/${method}`,
    { method: "POST", body: JSON.stringify(args), timeoutMs },
    `actor ${actorType}`,
  );
  const text = await res.text();
  if (!res.ok)
    throw new AppError(
      "UNAVAILABLE",
      `actor ${actorType}.${method} failed: ${res.status} ${text.slice(0, 300)}`,
    );
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
