import type { Server } from "node:http";
import type { ExecutionArgs } from "graphql";
import type { YogaServerInstance } from "graphql-yoga";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import type { Logger } from "@lsp/service-kit";

/** Headers a graphql-ws client may send in `connectionParams` (browsers cannot set WS headers). */
const PARAM_HEADERS = ["authorization", "x-tenant"];

/**
 * graphql-ws (`graphql-transport-ws`) on the same path as HTTP GraphQL, executed through Yoga's
 * envelop pipeline so every plugin (limits, rate limits, masking, auth) applies to WebSocket
 * operations too. The context sees a Fetch `Request` built from the upgrade request, with
 * `connectionParams` entries named in PARAM_HEADERS as headers.
 */
export function mountGraphQLWs<Ctx extends object>(
  server: Server,
  yoga: YogaServerInstance<object, Ctx>,
  log: Logger,
): { close: () => Promise<void> } {
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  type Enveloped = ReturnType<typeof yoga.getEnveloped>;
  const cleanup = useServer(
    {
      connectionInitWaitTimeout: 3_000,
      execute: (args: ExecutionArgs) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(ctx.extra.request.headers))
          if (typeof value === "string") headers.set(name, value);
        const params = (ctx.connectionParams ?? {}) as Record<string, unknown>;
        for (const name of PARAM_HEADERS) {
          const value = params[name] ?? params[name.toLowerCase()];
          if (typeof value === "string") headers.set(name, value);
        }
        // Operations over a socket are live: never answered from the response cache.
        headers.set("cache-control", "no-store");
        const request = new Request(`http://${headers.get("host") ?? "localhost"}${yoga.graphqlEndpoint}`, {
          headers,
        });
        const enveloped = yoga.getEnveloped({ request, params: payload, connectionParams: params });
        const document = enveloped.parse(payload.query);
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
  };
}
