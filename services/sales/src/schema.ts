import type { Kysely } from "kysely";
import { z } from "zod";
import {
  AppError,
  canAccessLocation,
  fetchLocation,
  type Identity,
  type SidecarPorts,
} from "@lsp/service-kit";
import type { SalesDB } from "./db.js";
import {
  SetAvailabilityInput,
  UpsertMenuItemInput,
  byCategory,
  locationMenu,
  setItemAvailability,
  upsertMenuItem,
  type MenuItemView,
} from "./menu.js";
import {
  CreateOrderInput,
  PayOrderInput,
  VoidOrderInput,
  createOrder,
  getOrder,
  payOrder,
  voidOrder,
} from "./orders.js";

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
    "Food cost per portion in VND (menu engineering)."
    costVnd: Int!
    "Whether it can be ordered at this location."
    available: Boolean!
  }

  type MenuCategory {
    name: String!
    items: [MenuItem!]!
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
    "Sum of the lines (VND)."
    subtotalVnd: Int!
    "Order-level discount (VND)."
    discountVnd: Int!
    "What the customer pays: subtotal − discount (VND)."
    totalVnd: Int!
    guests: Int
    "User id of the staff member who took the order."
    staffId: String
    "Business day (YYYY-MM-DD) after the location's cut-over."
    businessDay: String!
    createdAt: String!
    paidAt: String
    voidedAt: String
    voidReason: String
    lines: [OrderLine!]!
  }

  type Location @key(selectionSet: "{ id }") {
    id: ID!
    "The menu as this location sees it (availability per location)."
    menu: [MenuItem!]!
    menuCategories: [MenuCategory!]!
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
    "Order-level discount in VND (at most the subtotal)."
    discountVnd: Int
    guests: Int
    "Paid on the spot: the order is created paid."
    paid: Boolean
    "When the order was taken (ISO 8601), for offline POS sync and imports; owners and managers only."
    occurredAt: String
  }

  input PayOrderInput {
    orderId: ID!
    idempotencyKey: String!
    paymentMethod: PaymentMethod
  }

  input VoidOrderInput {
    orderId: ID!
    idempotencyKey: String!
    reason: String
  }

  input UpsertMenuItemInput {
    idempotencyKey: String!
    "Absent for a new item."
    id: ID
    category: String!
    name: String!
    priceVnd: Int!
    costVnd: Int!
    available: Boolean
  }

  input SetItemAvailabilityInput {
    idempotencyKey: String!
    itemId: ID!
    locationId: ID!
    available: Boolean!
  }

  type Query {
    order(id: ID!): Order
    _salesLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
  }

  type Mutation {
    createOrder(input: CreateOrderInput!): Order!
    payOrder(input: PayOrderInput!): Order!
    voidOrder(input: VoidOrderInput!): Order!
    upsertMenuItem(input: UpsertMenuItemInput!): MenuItem!
    setItemAvailability(input: SetItemAvailabilityInput!): MenuItem!
  }
`;

export interface SalesContext {
  db: Kysely<SalesDB>;
  ports: SidecarPorts;
  identity: () => Identity;
  /** One menu read per location and request, shared by `menu` and `menuCategories`. */
  menus: Map<string, Promise<MenuItemView[]>>;
}

function menuOf(ctx: SalesContext, locationId: string): Promise<MenuItemView[]> {
  let menu = ctx.menus.get(locationId);
  if (!menu) {
    menu = locationMenu(ctx.db, ctx.identity(), locationId);
    ctx.menus.set(locationId, menu);
  }
  return menu;
}

export const resolvers = {
  Query: {
    order: (_: unknown, args: { id: string }, ctx: SalesContext) => {
      const id = z.uuid().safeParse(args.id);
      if (!id.success) throw new AppError("BAD_USER_INPUT", "id must be a UUID", { field: "id" });
      return getOrder(ctx.db, ctx.identity(), id.data);
    },
    _salesLocations: (_: unknown, args: { ids: string[] }, ctx: SalesContext) => {
      const who = ctx.identity();
      return args.ids.map((id) => (canAccessLocation(who, id) ? { id } : null));
    },
  },
  Location: {
    menu: (loc: { id: string }, _: unknown, ctx: SalesContext) => menuOf(ctx, loc.id),
    menuCategories: async (loc: { id: string }, _: unknown, ctx: SalesContext) =>
      byCategory(await menuOf(ctx, loc.id)),
  },
  Mutation: {
    createOrder: async (_: unknown, args: { input: unknown }, ctx: SalesContext) => {
      const input = CreateOrderInput.parse(args.input);
      const who = ctx.identity();
      const location = await fetchLocation(ctx.ports, who, input.locationId);
      return createOrder(ctx.db, who, location, input);
    },
    payOrder: (_: unknown, args: { input: unknown }, ctx: SalesContext) =>
      payOrder(ctx.db, ctx.identity(), PayOrderInput.parse(args.input)),
    voidOrder: (_: unknown, args: { input: unknown }, ctx: SalesContext) =>
      voidOrder(ctx.db, ctx.identity(), VoidOrderInput.parse(args.input)),
    upsertMenuItem: (_: unknown, args: { input: unknown }, ctx: SalesContext) =>
      upsertMenuItem(ctx.db, ctx.identity(), UpsertMenuItemInput.parse(args.input)),
    setItemAvailability: (_: unknown, args: { input: unknown }, ctx: SalesContext) =>
      setItemAvailability(ctx.db, ctx.identity(), SetAvailabilityInput.parse(args.input)),
  },
};
