import type { Kysely } from "kysely";
import { businessDay } from "@lsp/contracts";
import { canAccessLocation, fetchLocation, type Identity, type SidecarPorts } from "@lsp/service-kit";
import type { DashboardDB } from "./db.js";
import { dayFigures } from "./read-model.js";

export const typeDefs = /* GraphQL */ `
  type Location @key(selectionSet: "{ id }") {
    id: ID!
    "Revenue (VND) of the location's current business day."
    todayRevenue: Int!
    "Orders of the location's current business day."
    todayOrders: Int!
  }

  type Query {
    _dashboardLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
  }
`;

export interface DashboardContext {
  db: Kysely<DashboardDB>;
  ports: SidecarPorts;
  identity: () => Identity;
}

export const resolvers = {
  Query: {
    // Batched by the edge: one call carries every location of the operation.
    _dashboardLocations: async (_: unknown, args: { ids: string[] }, ctx: DashboardContext) => {
      const who = ctx.identity();
      const ids = args.ids.filter((id) => canAccessLocation(who, id));
      const now = new Date();
      const settings = await Promise.all(
        ids.map((id) => fetchLocation(ctx.ports, who, id).catch(() => null)),
      );
      const keys = ids.flatMap((id, i) => {
        const s = settings[i];
        return s ? [{ locationId: id, businessDay: businessDay(now, s.cutoverHour, s.timeZone) }] : [];
      });
      const figures = await dayFigures(ctx.db, who.tenantId, keys);
      const byId = new Map(keys.map((k, i) => [k.locationId, figures[i]]));
      return args.ids.map((id) => {
        const f = byId.get(id);
        return f ? { id, todayRevenue: f.revenueVnd, todayOrders: f.orders } : null;
      });
    },
  },
};
