import type { Kysely } from "kysely";
import { AppError, mergeKeys, uuidArg } from "@lsp/runtime";
import { VndScalar } from "@lsp/graphql";
import { canAccessLocation, type Identity } from "@lsp/identity";
import { fetchLocation } from "@lsp/locations";
import type { SidecarPorts } from "@lsp/dapr";
import type { SalesDB } from "./db.js";
import { parseInput } from "./limits.js";
import { listOrders, type OrderListArgs } from "./order-list.js";
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
  "Amount in VND: an exact integer up to 2^53 − 1, as a JSON number (@lsp/graphql's VndScalar)."
  scalar Vnd

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
    priceVnd: Vnd!
    "Food cost per portion in VND (menu engineering)."
    costVnd: Vnd!
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
    unitPriceVnd: Vnd!
  }

  type Order {
    id: ID!
    locationId: ID!
    status: OrderStatus!
    paymentMethod: PaymentMethod!
    "Sum of the lines (VND)."
    subtotalVnd: Vnd!
    "Order-level discount (VND)."
    discountVnd: Vnd!
    "What the customer pays: subtotal − discount (VND)."
    totalVnd: Vnd!
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

  "Forward pagination of a list (Relay): pass endCursor as after for the next page."
  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type OrderEdge {
    "Opaque: continues this same list only."
    cursor: String!
    node: Order!
  }

  type OrderConnection {
    edges: [OrderEdge!]!
    pageInfo: PageInfo!
    "Orders matching the filter, over every page."
    totalCount: Int!
  }

  type Location @key(selectionSet: "{ id }") {
    id: ID!
    "The menu as this location sees it (availability per location)."
    menu: [MenuItem!]!
    menuCategories: [MenuCategory!]!
  }

  input OrderLineInput {
    itemId: ID!
    "1–1,000."
    quantity: Int!
  }

  input CreateOrderInput {
    locationId: ID!
    "Client-chosen key; repeating it returns the first order instead of creating another."
    idempotencyKey: String!
    paymentMethod: PaymentMethod!
    "1–200 lines; the subtotal at most 10,000,000,000 VND."
    lines: [OrderLineInput!]!
    "Order-level discount in VND (at most the subtotal)."
    discountVnd: Vnd
    "1–500."
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
    "0–100,000,000 VND."
    priceVnd: Vnd!
    "0–100,000,000 VND."
    costVnd: Vnd!
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
    """
    A location's orders, newest first (business day, time taken, id): one business day (default:
    the location's current one) or from/to (at most 92 days), optionally by status and staff.
    first: 1–100 (default 20); after: the endCursor of the previous page of this same list.
    changedSince (ISO 8601): only orders created, paid or voided at or after it — after a
    reconnect, the \`at\` of the last orderUpdates event seen catches up on what was missed
    (inclusive: that one may come again).
    """
    orders(
      locationId: ID!
      businessDay: String
      from: String
      to: String
      status: OrderStatus
      staffId: String
      changedSince: String
      first: Int
      after: String
    ): OrderConnection!
    "Stitching only (at most 200 ids, each a UUID)."
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
  Vnd: VndScalar,
  Query: {
    order: (_: unknown, args: { id: string }, ctx: SalesContext) =>
      getOrder(ctx.db, ctx.identity(), uuidArg(args.id, "id")),
    orders: async (_: unknown, args: OrderListArgs, ctx: SalesContext) => {
      const who = ctx.identity();
      const locationId = uuidArg(args.locationId, "locationId");
      if (!canAccessLocation(who, locationId))
        throw new AppError("FORBIDDEN", "no access to this location", { field: "locationId" });
      // NOT_FOUND for another tenant's location (auth answers within the caller's tenant).
      const location = await fetchLocation(ctx.ports, who, locationId);
      return listOrders(ctx.db, who, location, args);
    },
    _salesLocations: (_: unknown, args: { ids: string[] }, ctx: SalesContext) => {
      const ids = mergeKeys(args.ids);
      const who = ctx.identity();
      return ids.map((id) => (canAccessLocation(who, id) ? { id } : null));
    },
  },
  Location: {
    menu: (loc: { id: string }, _: unknown, ctx: SalesContext) => menuOf(ctx, loc.id),
    menuCategories: async (loc: { id: string }, _: unknown, ctx: SalesContext) =>
      byCategory(await menuOf(ctx, loc.id)),
  },
  Mutation: {
    createOrder: async (_: unknown, args: { input: unknown }, ctx: SalesContext) => {
      const input = parseInput(CreateOrderInput, args.input);
      const who = ctx.identity();
      const location = await fetchLocation(ctx.ports, who, input.locationId);
      return createOrder(ctx.db, who, location, input);
    },
    payOrder: (_: unknown, args: { input: unknown }, ctx: SalesContext) =>
      payOrder(ctx.db, ctx.identity(), parseInput(PayOrderInput, args.input)),
    voidOrder: (_: unknown, args: { input: unknown }, ctx: SalesContext) =>
      voidOrder(ctx.db, ctx.identity(), parseInput(VoidOrderInput, args.input)),
    upsertMenuItem: (_: unknown, args: { input: unknown }, ctx: SalesContext) =>
      upsertMenuItem(ctx.db, ctx.identity(), parseInput(UpsertMenuItemInput, args.input)),
    setItemAvailability: async (_: unknown, args: { input: unknown }, ctx: SalesContext) => {
      const input = parseInput(SetAvailabilityInput, args.input);
      const who = ctx.identity();
      // Only a location of the caller's tenant (NOT_FOUND otherwise): no rows for made-up ids.
      await fetchLocation(ctx.ports, who, input.locationId);
      return setItemAvailability(ctx.db, who, input);
    },
  },
};
