import type { Kysely } from "kysely";
import {
  canAccessLocation,
  fetchLocation,
  withTenant,
  type Identity,
  type SidecarPorts,
} from "@lsp/service-kit";
import type { SalesDB } from "./db.js";
import { CreateOrderInput, createOrder, getOrder } from "./orders.js";

export const typeDefs = /* GraphQL */ `
  enum PaymentMethod {
    cash
    card
    momo
    zalopay
    vnpay
  }
  enum OrderStatus {
    open
    paid
    voided
  }

  type MenuItem {
    id: ID!
    category: String!
    name: String!
    "Price in VND."
    priceVnd: Int!
    available: Boolean!
  }

  type OrderLine {
    itemId: ID!
    name: String!
    quantity: Int!
    unitPriceVnd: Int!
  }

  type Order {
    id: ID!
    locationId: ID!
    status: OrderStatus!
    paymentMethod: PaymentMethod!
    totalVnd: Int!
    "Business day (YYYY-MM-DD) after the location's cut-over."
    businessDay: String!
    createdAt: String!
    lines: [OrderLine!]!
  }

  type Location @key(selectionSet: "{ id }") {
    id: ID!
    menu: [MenuItem!]!
  }

  input OrderLineInput {
    itemId: ID!
    quantity: Int!
  }

  input CreateOrderInput {
    locationId: ID!
    "Client-chosen key; repeating it returns the first order instead of creating another."
    idempotencyKey: String!
    paymentMethod: PaymentMethod!
    lines: [OrderLineInput!]!
  }

  type Query {
    order(id: ID!): Order
    _salesLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
  }

  type Mutation {
    createOrder(input: CreateOrderInput!): Order!
  }
`;

export interface SalesContext {
  db: Kysely<SalesDB>;
  ports: SidecarPorts;
  identity: () => Identity;
}

export const resolvers = {
  Query: {
    order: (_: unknown, args: { id: string }, ctx: SalesContext) => getOrder(ctx.db, ctx.identity(), args.id),
    _salesLocations: (_: unknown, args: { ids: string[] }, ctx: SalesContext) => {
      const who = ctx.identity();
      return args.ids.map((id) => (canAccessLocation(who, id) ? { id } : null));
    },
  },
  Location: {
    // The menu is per tenant for now; per-location availability comes with the menu issue.
    menu: async (_loc: { id: string }, _: unknown, ctx: SalesContext) => {
      const rows = await withTenant(ctx.db, ctx.identity().tenantId, (trx) =>
        trx.selectFrom("menu_items").selectAll().orderBy("category").orderBy("name").execute(),
      );
      return rows.map((r) => ({
        id: r.id,
        category: r.category,
        name: r.name,
        priceVnd: r.price_vnd,
        available: r.available,
      }));
    },
  },
  Mutation: {
    createOrder: async (_: unknown, args: { input: unknown }, ctx: SalesContext) => {
      const input = CreateOrderInput.parse(args.input);
      const who = ctx.identity();
      const location = await fetchLocation(ctx.ports, who, input.locationId);
      return createOrder(ctx.db, who, location, input);
    },
  },
};
