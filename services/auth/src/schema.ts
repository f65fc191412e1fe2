import type { Kysely } from "kysely";
import type { Identity } from "@lsp/service-kit";
import type { AuthDB } from "./db.js";
import { listLocations, locationsByIds, requireLocation } from "./locations.js";

export const typeDefs = /* GraphQL */ `
  type Tenant {
    id: ID!
    slug: String!
    name: String!
  }

  type Location @key(selectionSet: "{ id }") {
    id: ID!
    name: String!
    timeZone: String!
    "Hour (local time) at which the business day starts, e.g. 4 for 04:00."
    cutoverHour: Int!
  }

  type Query {
    tenant: Tenant!
    locations: [Location!]!
    location(id: ID!): Location
    _authLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
  }
`;

export interface AuthContext {
  db: Kysely<AuthDB>;
  identity: () => Identity;
}

export const resolvers = {
  Query: {
    tenant: async (_: unknown, __: unknown, ctx: AuthContext) => {
      const who = ctx.identity();
      return ctx.db
        .selectFrom("tenants")
        .select(["id", "slug", "name"])
        .where("id", "=", who.tenantId)
        .executeTakeFirstOrThrow();
    },
    locations: (_: unknown, __: unknown, ctx: AuthContext) => listLocations(ctx.db, ctx.identity()),
    location: (_: unknown, args: { id: string }, ctx: AuthContext) =>
      requireLocation(ctx.db, ctx.identity(), args.id).catch(() => null),
    _authLocations: (_: unknown, args: { ids: string[] }, ctx: AuthContext) =>
      locationsByIds(ctx.db, ctx.identity(), args.ids),
  },
};
