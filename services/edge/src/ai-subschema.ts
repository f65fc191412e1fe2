import { ActorId, ActorProxyBuilder, type DaprClient } from "@dapr/dapr";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { stitchingDirectives } from "@graphql-tools/stitching-directives";
import { z } from "zod";
import { AppError, canAccessLocation } from "@lsp/service-kit";
import type { EdgeContext } from "./context.js";

/**
 * Stand-in class for the Python actor type: the JS SDK names the actor type after the class and
 * sends the call's arguments as a JSON array (research/dapr.md §4). Never instantiated.
 */
class LocationInsights {
  GetSummary(_arg: Record<string, never>): Promise<unknown> {
    throw new Error("proxy only");
  }
}

const Summary = z.object({
  locationId: z.string(),
  ordersSeen: z.number().int(),
  revenueVnd: z.number().int(),
  lastEventAt: z.string().nullable(),
});

const { stitchingDirectivesTypeDefs } = stitchingDirectives();

/** The `ai` timeout of components/local/resiliency.yaml, enforced here (see the note there). */
const AI_CALL_BUDGET_MS = 800;

function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}

const typeDefs = /* GraphQL */ `
  ${stitchingDirectivesTypeDefs}
  "What the location's AI actor has learned from the events it received."
  type AiInsights {
    ordersSeen: Int!
    revenueVnd: Int!
    lastEventAt: String
  }
  type Location @key(selectionSet: "{ id }") {
    id: ID!
    insights: AiInsights
  }
  type Query {
    _aiLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
  }
`;

/** The AI subschema lives in the edge: its resolvers call the ai service's actors over Dapr gRPC. */
export function aiSubschema(dapr: DaprClient) {
  const builder = new ActorProxyBuilder<LocationInsights>(LocationInsights, dapr);
  return makeExecutableSchema<EdgeContext>({
    typeDefs,
    resolvers: {
      Query: {
        _aiLocations: (_: unknown, args: { ids: string[] }, ctx: EdgeContext) =>
          args.ids.map((id) => (canAccessLocation(ctx.identity(), id) ? { id } : null)),
      },
      Location: {
        insights: async (loc: { id: string }) => {
          try {
            const raw = await withDeadline(
              builder.build(new ActorId(loc.id)).GetSummary({}),
              AI_CALL_BUDGET_MS,
            );
            return Summary.parse(raw);
          } catch (err) {
            throw new AppError("UNAVAILABLE", "AI insights are unavailable right now", {
              cause: String(err),
            });
          }
        },
      },
    },
  });
}
