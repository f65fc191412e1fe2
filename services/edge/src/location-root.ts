import type { SubschemaConfig } from "@graphql-tools/delegate";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { stitchingDirectives } from "@graphql-tools/stitching-directives";
import { AppError, uuidArg } from "@lsp/runtime";
import type { SidecarPorts } from "@lsp/dapr";
import { canAccessLocation, type Identity } from "@lsp/identity";
import { fetchLocation, type LocationSettings } from "@lsp/locations";
import type { EdgeContext } from "./context.js";

const { stitchingDirectivesTypeDefs } = stitchingDirectives();

// The same fields, descriptions and nullability as auth's Location: the stitched type is one.
const typeDefs = /* GraphQL */ `
  ${stitchingDirectivesTypeDefs}
  type Location {
    id: ID!
    name: String!
    timeZone: String!
    "Hour (local time) at which the business day starts, e.g. 4 for 04:00."
    cutoverHour: Int!
  }
  type Query {
    location(id: ID!): Location @canonical
  }
`;

/**
 * The location's settings if the caller may see it: within its branch scope and its tenant's
 * (auth answers NOT_FOUND within the tenant); null otherwise. UNAVAILABLE when auth cannot be
 * asked and the location is not cached. The one check of the edge's own location fields (this
 * root, the AI subschema's).
 */
export async function accessibleLocation(
  ports: SidecarPorts,
  who: Identity,
  locationId: string,
): Promise<LocationSettings | null> {
  if (!canAccessLocation(who, locationId)) return null;
  try {
    return await fetchLocation(ports, who, locationId);
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") return null;
    throw err;
  }
}

/**
 * `Query.location(id)`, the entry of nearly every dashboard query, answered at the edge from the
 * location settings it already keeps for its own access checks (@lsp/locations: auth's answer,
 * cached per process; a location does not change once created) instead of a delegation to auth
 * per query: one service hop less for `location(id) { todayRevenue … }`, where auth's part was
 * the name and the id. The answer is auth's resolver's:
 * - null for a location outside the caller's branch scope, or not the caller's tenant's
 *   (auth answers NOT_FOUND within the tenant);
 * - BAD_USER_INPUT for an id that is not a UUID, UNAUTHENTICATED without a caller;
 * - UNAVAILABLE when auth cannot be asked and the location is not cached.
 *
 * `@canonical` makes the stitched schema take this root field rather than auth's. Every other way
 * to a Location (auth's `locations`, `me`, the merges of the other services) is unchanged. A field
 * of auth's Location not declared here (`closedWeekdays`, which owners change) is merged from auth
 * by id (`_authLocations`), so it is always auth's current answer, never this cache's
 * (test/e2e/opening-days.test.ts).
 */
export function locationRootSchema(ports: SidecarPorts): SubschemaConfig {
  const schema = makeExecutableSchema<EdgeContext>({
    typeDefs,
    resolvers: {
      Query: {
        location: async (_: unknown, args: { id: string }, ctx: EdgeContext) => {
          const l = await accessibleLocation(ports, ctx.identity(), uuidArg(args.id, "id"));
          return l && { id: l.id, name: l.name, timeZone: l.timeZone, cutoverHour: l.cutoverHour };
        },
      },
    },
  });
  // Not batched: each `location(id)` is a cache lookup in this process, so merging a tick's root
  // fields into one document (what batching does for a service) would only add work.
  return { schema, batch: false };
}
