import type { IncomingMessage, Server } from "node:http";
import type { ExecutionArgs } from "graphql";
import type { YogaServerInstance } from "graphql-yoga";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocket, WebSocketServer } from "ws";
import { z } from "zod";
import { toAppError, type Logger } from "@lsp/runtime";
import type { Identity } from "@lsp/identity";
import type { Authenticator } from "./identity.js";
import type { DocumentResolver } from "./trusted-documents.js";

/** Headers a graphql-ws client may send in `connectionParams` (browsers cannot set WS headers). */
const PARAM_HEADERS = ["authorization", "x-tenant"];

export const LiveConfig = z.object({
  /** Largest graphql-ws message accepted; a larger one closes the socket (1009). */
  EDGE_WS_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** Open sockets per user and per client address; one more is refused at connection_init. */
  EDGE_WS_MAX_PER_USER: z.coerce.number().int().positive().default(10),
  EDGE_WS_MAX_PER_ADDRESS: z.coerce.number().int().positive().default(100),
});
export type LiveConfig = z.infer<typeof LiveConfig>;

interface SocketInfo {
  identity: Identity;
  address: string;
  socket: WebSocket;
  expiry: NodeJS.Timeout;
}

/** Too many sockets for this user or address: WebSocket's own "try again later". */
const TOO_MANY_SOCKETS = 1013;

function tokenOf(params: Record<string, unknown>): string | null {
  for (const key of ["authorization", "Authorization", "token"]) {
    const v = params[key];
    if (typeof v === "string") return v;
  }
  return null;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the same path as HTTP GraphQL, executed through Yoga's
 * envelop pipeline so every plugin (limits, rate limits, masking, auth) applies to WebSocket
 * operations too.
 *
 * A socket proves who it is at `connection_init` (its `connectionParams.authorization` access
 * token, in the tenant of the address or `connectionParams.tenant`): anonymous or forged sockets
 * are closed 4403 before any operation. Each socket is closed when its token expires (4401: the
 * client reconnects with a fresh one) and when its user is removed or their role or branches
 * change (`closeSocketsOf`, 4403), so a live screen never outlives the access it was opened with.
 * Messages are bounded (`maxPayload`), and so are sockets per user and per client address.
 */
export function mountGraphQLWs<Ctx extends object>(
  server: Server,
  yoga: YogaServerInstance<object, Ctx>,
  authenticator: Authenticator,
  cfg: LiveConfig,
  addressOf: (req: IncomingMessage) => string,
  resolveDocument: DocumentResolver,
  log: Logger,
): {
  close: () => Promise<void>;
  closeSocketsOf: (tenantId: string, userId: string, reason: string) => number;
} {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: cfg.EDGE_WS_MAX_PAYLOAD_BYTES,
  });
  const sockets = new Map<WebSocket, SocketInfo>();
  const count = (test: (s: SocketInfo) => boolean) => [...sockets.values()].filter(test).length;
  type Enveloped = ReturnType<typeof yoga.getEnveloped>;

  const forget = (socket: WebSocket) => {
    const info = sockets.get(socket);
    if (!info) return;
    clearTimeout(info.expiry);
    sockets.delete(socket);
  };

  const cleanup = useServer(
    {
      connectionInitWaitTimeout: 3_000,
      execute: (args: ExecutionArgs) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as Enveloped).subscribe(args),
      onConnect: async (ctx) => {
        const params = (ctx.connectionParams ?? {}) as Record<string, unknown>;
        const { request, socket } = ctx.extra;
        const tenant = params.tenant ?? params["x-tenant"];
        let who: Awaited<ReturnType<Authenticator["authenticate"]>>;
        try {
          who = await authenticator.authenticate({
            host: request.headers.host ?? null,
            xTenant: typeof tenant === "string" ? tenant : null,
            authorization: tokenOf(params),
          });
        } catch (err) {
          const failure = toAppError(err);
          socket.close(CloseCode.Forbidden, `${failure.code}: ${failure.message}`.slice(0, 120));
          return false;
        }
        const address = addressOf(request);
        const { identity } = who;
        if (
          count((s) => s.identity.tenantId === identity.tenantId && s.identity.userId === identity.userId) >=
            cfg.EDGE_WS_MAX_PER_USER ||
          count((s) => s.address === address) >= cfg.EDGE_WS_MAX_PER_ADDRESS
        ) {
          socket.close(TOO_MANY_SOCKETS, "RATE_LIMITED: too many open sockets");
          return false;
        }
        const expiry = setTimeout(
          () => socket.close(CloseCode.Unauthorized, "TOKEN_EXPIRED: reconnect with a fresh token"),
          Math.max(0, who.expiresAt - Date.now()),
        );
        expiry.unref();
        sockets.set(socket, { identity, address, socket, expiry });
        socket.once("close", () => forget(socket));
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(ctx.extra.request.headers))
          if (typeof value === "string") headers.set(name, value);
        const params = (ctx.connectionParams ?? {}) as Record<string, unknown>;
        for (const name of PARAM_HEADERS) {
          const value = params[name] ?? params[name.toLowerCase()];
          if (typeof value === "string") headers.set(name, value);
        }
        const token = tokenOf(params);
        if (token) headers.set("authorization", token.startsWith("Bearer ") ? token : `Bearer ${token}`);
        if (typeof params.tenant === "string") headers.set("x-tenant", params.tenant);
        // Operations over a socket are live: never answered from the response cache.
        headers.set("cache-control", "no-store");
        const request = new Request(`http://${headers.get("host") ?? "localhost"}${yoga.graphqlEndpoint}`, {
          headers,
        });
        // Trusted documents apply here as over HTTP (a hash, or nothing else in trusted-only mode).
        const query = resolveDocument(payload, sockets.get(ctx.extra.socket)?.identity.tenantId);
        if (typeof query !== "string") return [query];
        const enveloped = yoga.getEnveloped({
          request,
          params: { ...payload, query },
          connectionParams: params,
        });
        const document = enveloped.parse(query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length) return errors;
        return {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: enveloped,
        };
      },
    },
    wss,
  );
  wss.on("error", (err) => log.warn({ err }, "graphql-ws server error"));
  return {
    close: async () => {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
    closeSocketsOf: (tenantId, userId, reason) => {
      let closed = 0;
      for (const info of sockets.values()) {
        if (info.identity.tenantId !== tenantId || info.identity.userId !== userId) continue;
        if (info.socket.readyState === WebSocket.OPEN) {
          info.socket.close(CloseCode.Forbidden, `FORBIDDEN: ${reason}`.slice(0, 120));
          closed++;
        }
        forget(info.socket);
      }
      if (closed) log.info({ tenantId, userId, closed, reason }, "closed the sockets of a changed member");
      return closed;
    },
  };
}
