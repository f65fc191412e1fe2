import { buildHTTPExecutor } from "@graphql-tools/executor-http";
import { stitchSchemas } from "@graphql-tools/stitch";
import { stitchingDirectives } from "@graphql-tools/stitching-directives";
import type { SubschemaConfig } from "@graphql-tools/delegate";
import { buildSchema, type GraphQLSchema } from "graphql";
import { identityHeaders, invokeService, type Logger, type SidecarPorts } from "@lsp/service-kit";
import type { EdgeContext } from "./context.js";

const { stitchingDirectivesTransformer } = stitchingDirectives();

/** Services that serve a GraphQL subschema at /graphql, reached through Dapr service invocation. */
export const REMOTE_SUBSCHEMAS = ["auth", "sales", "dashboard", "payments", "notifications"] as const;

async function fetchSdl(ports: SidecarPorts, app: string): Promise<string> {
  const res = await invokeService(ports, app, "graphql", {
    body: JSON.stringify({ query: "{ _sdl }" }),
    timeoutMs: 3000,
  });
  if (!res.ok) throw new Error(`${app}: SDL request answered ${res.status}`);
  const body = (await res.json()) as { data?: { _sdl?: string } };
  if (!body.data?._sdl) throw new Error(`${app}: no SDL in answer`);
  return body.data._sdl;
}

function remoteSubschema(ports: SidecarPorts, app: string, sdl: string): SubschemaConfig {
  const executor = buildHTTPExecutor({
    endpoint: `http://127.0.0.1:${ports.DAPR_HTTP_PORT}/v1.0/invoke/${app}/method/graphql`,
    headers: (req) => {
      const ctx = req?.context as EdgeContext | undefined;
      return ctx ? identityHeaders(ctx.identity()) : {};
    },
    timeout: 10_000,
  });
  // `batch: true` merges the root fields of one tick into one request per service (no N+1).
  return { schema: buildSchema(sdl), executor, batch: true, name: app } as SubschemaConfig;
}

/** Fetches every remote SDL and stitches them with the edge's local subschemas. */
export async function buildGatewaySchema(
  ports: SidecarPorts,
  local: GraphQLSchema[],
  log: Logger,
): Promise<GraphQLSchema> {
  const sdls = await Promise.all(REMOTE_SUBSCHEMAS.map((app) => fetchSdl(ports, app)));
  log.info({ subschemas: REMOTE_SUBSCHEMAS }, "stitching subschemas");
  return stitchSchemas({
    subschemaConfigTransforms: [stitchingDirectivesTransformer],
    subschemas: [
      ...REMOTE_SUBSCHEMAS.map((app, i) => remoteSubschema(ports, app, sdls[i] ?? "")),
      ...local.map((schema) => ({ schema, batch: true })),
    ],
  });
}
