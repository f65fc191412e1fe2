import type { IncomingMessage, ServerResponse } from "node:http";
import { getOperationAST } from "graphql";
import type { GraphQLParams, Plugin } from "graphql-yoga";
import type { Caller, Identity } from "@lsp/identity";
import type { Logger } from "@lsp/runtime";
import type { CallerCredentials } from "./identity.js";
import { countResponseCache } from "./metrics.js";
import {
  cacheKey,
  etagMatches,
  etagOf,
  idsOf,
  reusable,
  type CacheLookup,
  type ResponseCache,
} from "./response-cache.js";

/** What the pipeline tells the front about one operation it executed (see useExecutionOutcome). */
export interface ExecutionOutcome {
  operation?: "query" | "mutation" | "subscription";
  errors?: boolean;
}

/** Passed to Yoga as server context: the caller resolved here, and where the outcome goes. */
export interface FrontContext {
  edgeCaller: Caller;
  edgeOutcome: ExecutionOutcome;
  /**
   * The request body, JSON-parsed here (a JSON object or array: what Yoga's own JSON parser
   * accepts); useFrontParams hands it to Yoga instead of a body to stream and parse again.
   */
  edgeParams?: object;
}

/**
 * Yoga's request parser for requests of the front: the body it parsed already. Yoga otherwise
 * streams the body again through its size limiter (a TransformStream, a second Request, an
 * abort signal) and JSON-parses it a second time (measured: about a tenth of an executed
 * query's CPU). What Yoga does with the parsed body is unchanged: its parameter checks
 * (`useCheckGraphQLQueryParams`), batching limit and every plugin run on it as before. Requests
 * that did not come through the front (Express, graphql-ws) keep Yoga's parsers.
 */
export function useFrontParams(): Plugin {
  return {
    onRequestParse({ serverContext, setRequestParser }) {
      const params = (serverContext as Partial<FrontContext> | undefined)?.edgeParams;
      // Checked by Yoga next (useCheckGraphQLQueryParams), as its own JSON parser's result is.
      if (params) setRequestParser(() => params as GraphQLParams);
    },
  };
}

/**
 * Records the operation type and whether its result had errors, for the front to decide whether
 * the answer may be cached (nothing else of the pipeline changes). Placed last, so that it sees
 * only operations every other plugin let through.
 */
export function useExecutionOutcome(): Plugin {
  return {
    onExecute({ args }) {
      const outcome = (args.contextValue as Partial<FrontContext>).edgeOutcome;
      if (!outcome) return;
      outcome.operation = getOperationAST(args.document, args.operationName)?.operation;
      return {
        onExecuteDone({ result }) {
          // A stream (defer, live) is never cached.
          outcome.errors = Symbol.asyncIterator in result ? true : (result.errors?.length ?? 0) > 0;
        },
      };
    },
  };
}

export interface FrontOptions {
  /** The GraphQL path (Yoga's graphqlEndpoint). */
  path: string;
  /** Largest body read here; larger (or unsized) bodies go the ordinary way (413 there). */
  bodyLimitBytes: number;
  /** Undefined: no response cache (TTL 0). */
  cache: ResponseCache | undefined;
  callerOf: (credentials: CallerCredentials) => Promise<Caller>;
  /** Yoga's fetch entry: runs the whole pipeline on a request (`yoga.fetch`). */
  execute: (url: string, init: RequestInit, context: FrontContext) => Promise<Response> | Response;
  /** Called once for every request the front takes (HTTP metrics). */
  observe?: (req: IncomingMessage, res: ServerResponse) => void;
  log: Logger;
}

/**
 * BODY_LIMIT as a number of bytes, read as Express's body parser reads it ("256kb": 1024-based
 * units b, kb, mb, gb); throws on anything else, at start.
 */
export function parseByteLimit(limit: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!m) throw new Error(`BODY_LIMIT: not a size: ${limit}`);
  const unit = { b: 0, kb: 1, mb: 2, gb: 3 }[(m[2] ?? "b").toLowerCase() as "b" | "kb" | "mb" | "gb"];
  return Math.floor(Number(m[1]) * 1024 ** unit);
}

const JSON_BODY = /^application\/(json|[^;\s]+\+json)\s*(;|$)/i;
/** Streaming answers (SSE, incremental delivery) are left to Yoga's own Node adapter. */
const STREAMING = /text\/event-stream|multipart\/mixed/i;
const NO_CACHE = /no-cache|no-store/i;

/** The one request this front takes: a POSTed JSON GraphQL request of bounded, declared size. */
function takes(req: IncomingMessage, path: string, limit: number): boolean {
  if (req.method !== "POST") return false;
  const url = req.url ?? "";
  const q = url.indexOf("?");
  if ((q < 0 ? url : url.slice(0, q)) !== path) return false;
  if (!JSON_BODY.test(req.headers["content-type"] ?? "")) return false;
  if (STREAMING.test(req.headers.accept ?? "")) return false;
  const length = Number(req.headers["content-length"]);
  return Number.isInteger(length) && length >= 0 && length <= limit;
}

/** The client closed the connection: nobody to answer, nothing to log. */
class ClientGone extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()),
    );
    req.once("error", reject);
    // A client gone before its body ended. "close" also follows every complete request: no
    // Error (and its stack) is made then (measured: 2 % of a cache hit).
    req.once("close", () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
}

interface ParsedRequest {
  document: CacheLookup["document"];
  operationName: string | undefined;
  variables: unknown;
}

/** The body as JSON: an object or array (what Yoga's JSON parser takes), else undefined. */
function parseJson(body: string): object | undefined {
  try {
    const json: unknown = JSON.parse(body);
    return typeof json === "object" && json !== null ? json : undefined;
  } catch {
    return undefined;
  }
}

/** The cacheable shape of a GraphQL-over-HTTP body, or undefined (Yoga will say what is wrong). */
function parse(json: object | undefined): ParsedRequest | undefined {
  if (json === undefined || Array.isArray(json)) return undefined;
  const { query, operationName, variables, extensions } = json as Record<string, unknown>;
  const persisted = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)
    ?.persistedQuery?.sha256Hash;
  const document =
    typeof persisted === "string"
      ? { hash: persisted }
      : typeof query === "string"
        ? { text: query }
        : undefined;
  if (!document) return undefined;
  return {
    document,
    operationName: typeof operationName === "string" ? operationName : undefined,
    variables: variables ?? undefined,
  };
}

function identityOf(caller: Caller): Identity | undefined {
  try {
    return caller.identity();
  } catch {
    return undefined;
  }
}

/** Sends a cacheable answer with its ETag, or a bodiless 304 when If-None-Match names it (then true). */
function answerFromCache(
  req: IncomingMessage,
  res: ServerResponse,
  answer: { contentType: string; body: string; etag: string },
): boolean {
  const headers = {
    etag: answer.etag,
    "cache-control": "private, no-cache",
    vary: "authorization, x-tenant",
  };
  if (etagMatches(headerOf(req, "if-none-match") ?? undefined, answer.etag)) {
    res.writeHead(304, headers).end();
    return true;
  }
  res
    .writeHead(200, {
      ...headers,
      "content-type": answer.contentType,
      "content-length": Buffer.byteLength(answer.body),
    })
    .end(answer.body);
  return false;
}

/**
 * `/graphql` served straight from Node's HTTP server, without Express in front (it costs a
 * third of a cached answer's time), for POSTed JSON bodies of declared size — what every client
 * sends; anything else (GET, other types, chunked or oversized bodies, SSE) goes the ordinary
 * way (`next`), so limits and typed refusals stay where they are.
 *
 * The caller is verified first (access token, cached until it expires; tenant of the address).
 * A verified caller's repeated query is answered from the response cache before Yoga's pipeline:
 * the key is the verified identity + document (or trusted-document hash) + operation name +
 * variables + Accept, so no caller is ever served another's answer, and only documents that
 * passed every plugin (trusted documents, introspection, depth and cost limits, rate limits,
 * auth) once for that same caller are ever in it. Every cacheable answer carries an `ETag`;
 * `If-None-Match` with it gets a `304`. `Cache-Control: no-cache` executes (and refreshes).
 */
export function graphqlFront(opts: FrontOptions) {
  const { cache, log } = opts;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const caller = await opts.callerOf({
      host: headerOf(req, "host"),
      xTenant: headerOf(req, "x-tenant"),
      authorization: headerOf(req, "authorization"),
    });
    const identity = identityOf(caller);
    const json = parseJson(body);
    // Read before Yoga runs: plugins may rewrite the parameters (trusted documents).
    const parsed = cache && identity ? parse(json) : undefined;
    const key =
      parsed && identity
        ? cacheKey({ identity, ...parsed, accept: headerOf(req, "accept") ?? "" })
        : undefined;
    if (key && cache && !NO_CACHE.test(headerOf(req, "cache-control") ?? "")) {
      const hit = cache.get(key);
      if (hit) {
        (answerFromCache(req, res, hit) ? countResponseCache.notModified : countResponseCache.hit).inc();
        return;
      }
    }
    if (key) countResponseCache.miss.inc();

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    const context: FrontContext = {
      edgeCaller: caller,
      edgeOutcome: {},
      // Parsed: Yoga takes it as is (useFrontParams), no body to read again. Not JSON (or not
      // an object): the body goes to Yoga, whose parser answers the client's mistake.
      ...(json ? { edgeParams: json } : {}),
    };
    const mark = cache?.begin() ?? 0;
    const response = await opts.execute(
      // A fixed origin: the Host was read above (the tenant); a client's odd Host must not make
      // the URL unparseable (that would be a 500 for a client mistake).
      `http://edge.invalid${req.url ?? opts.path}`,
      json ? { method: "POST", headers } : { method: "POST", headers, body },
      context,
    );
    const text = await response.text();
    const contentType = response.headers.get("content-type") ?? "application/json";
    if (response.status === 200 && context.edgeOutcome.operation === "mutation" && cache)
      cache.dropIds(idsOf(body, text));
    if (key && cache && response.status === 200 && reusable(context.edgeOutcome, text)) {
      // The caller's tenant too: a tenant-wide change (menu-events.ts) drops all of its answers.
      const answer = {
        contentType,
        body: text,
        etag: etagOf(text),
        ids: idsOf(body, text, identity?.tenantId ?? ""),
      };
      cache.set(key, answer, mark);
      answerFromCache(req, res, answer);
      return;
    }
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => (out[name] = value));
    out["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(response.status, out).end(text);
  }

  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (!takes(req, opts.path, opts.bodyLimitBytes)) return next();
    opts.observe?.(req, res);
    serve(req, res).catch((err: unknown) => {
      if (err instanceof ClientGone) return void res.destroy();
      log.error({ err }, "graphql request failed");
      if (res.headersSent) return void res.destroy();
      res
        .writeHead(500, { "content-type": "application/json" })
        .end(JSON.stringify({ errors: [{ message: "internal error", extensions: { code: "INTERNAL" } }] }));
    });
  };
}
