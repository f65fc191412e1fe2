import type { Express } from "express";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import { createPubSub, filter, pipe } from "graphql-yoga";
import type { OrderCreated, OrderPaid, OrderVoided } from "@lsp/contracts";
import { AppError, uuidArg, type Logger } from "@lsp/runtime";
import { VndScalar } from "@lsp/graphql";
import { canAccessLocation } from "@lsp/identity";
import { fetchLocation } from "@lsp/locations";
import { subscriptionRoute, type SidecarPorts } from "@lsp/dapr";
import type { EdgeContext } from "./context.js";

/**
 * `orderUpdates(locationId)`: the floor sees a location's orders open, get paid and get voided
 * as they happen. Sourced from sales' order events on the `orders` topic, delivered by Dapr
 * pub/sub (subscription `edge-orders`, components/local/subscriptions.yaml) to `/events/orders`,
 * and handed to the subscriptions of that location within the caller's tenant and branches
 * (live-events.ts explains the shape: nothing stored, nothing streamed through the sidecar).
 */
export interface OrderUpdate {
  kind: "CREATED" | "PAID" | "VOIDED";
  orderId: string;
  tenantId: string;
  locationId: string;
  businessDay: string;
  status: "open" | "paid" | "voided";
  totalVnd: number;
  paymentMethod: string | null;
  staffId: string | null;
  at: string;
  voidReason: string | null;
}

const pubSub = createPubSub<{ order: [OrderUpdate] }>();

function created(e: OrderCreated): OrderUpdate {
  return {
    kind: "CREATED",
    orderId: e.orderId,
    tenantId: e.tenantId,
    locationId: e.locationId,
    businessDay: e.businessDay,
    // An order paid on the spot sends order.paid right after: it is open until then.
    status: "open",
    totalVnd: e.totalVnd,
    paymentMethod: e.paymentMethod,
    staffId: e.staffId ?? null,
    at: e.createdAt,
    voidReason: null,
  };
}

function paid(e: OrderPaid): OrderUpdate {
  return {
    kind: "PAID",
    orderId: e.orderId,
    tenantId: e.tenantId,
    locationId: e.locationId,
    businessDay: e.businessDay,
    status: "paid",
    totalVnd: e.totalVnd,
    paymentMethod: e.paymentMethod,
    staffId: null,
    at: e.paidAt,
    voidReason: null,
  };
}

function voided(e: OrderVoided): OrderUpdate {
  return {
    kind: "VOIDED",
    orderId: e.orderId,
    tenantId: e.tenantId,
    locationId: e.locationId,
    businessDay: e.businessDay,
    status: "voided",
    totalVnd: e.totalVnd,
    paymentMethod: null,
    staffId: null,
    at: e.voidedAt,
    voidReason: e.reason ?? null,
  };
}

/** Mounts the delivery route; `onUpdate` sees each update before subscribers (cache invalidation). */
export function mountOrderEvents(
  app: Express,
  log: Logger,
  onUpdate: (u: OrderUpdate) => Promise<void>,
): void {
  const deliver = async (update: OrderUpdate) => {
    await onUpdate(update);
    pubSub.publish("order", update);
  };
  subscriptionRoute(
    app,
    "/events/orders",
    {
      "order.created": (_id, e) => deliver(created(e)),
      "order.paid": (_id, e) => deliver(paid(e)),
      "order.voided": (_id, e) => deliver(voided(e)),
    },
    log,
  );
}

const typeDefs = /* GraphQL */ `
  scalar Vnd
  enum OrderStatus {
    open
    paid
    voided
  }
  enum OrderUpdateKind {
    "A new order (status open; one paid on the spot is followed by PAID)."
    CREATED
    PAID
    VOIDED
  }
  "One change of one order of a location, as sales committed it."
  type OrderUpdate {
    kind: OrderUpdateKind!
    orderId: ID!
    locationId: ID!
    businessDay: String!
    "The order's status after this change."
    status: OrderStatus!
    totalVnd: Vnd!
    "On CREATED and PAID: the method (PAID: the one actually used)."
    paymentMethod: String
    "On CREATED: who took the order."
    staffId: String
    "When it happened (ISO 8601)."
    at: String!
    voidReason: String
  }
  type Query {
    _ordersLive: Boolean
  }
  type Subscription {
    """
    A location's orders as they open, get paid and get voided (staff: their branches only).
    Nothing is replayed: after a reconnect, subscribe again first, then catch up with
    orders(locationId, changedSince: <the at of the last update seen>) and merge by order id.
    """
    orderUpdates(locationId: ID!): OrderUpdate!
  }
`;

export function ordersLiveSchema(ports: SidecarPorts): GraphQLSchema {
  return makeExecutableSchema<EdgeContext>({
    typeDefs,
    resolvers: {
      Vnd: VndScalar,
      Subscription: {
        orderUpdates: {
          subscribe: async (_: unknown, args: { locationId: string }, ctx: EdgeContext) => {
            const who = ctx.identity();
            const locationId = uuidArg(args.locationId, "locationId");
            if (!canAccessLocation(who, locationId))
              throw new AppError("FORBIDDEN", "no access to this location", { field: "locationId" });
            // NOT_FOUND for another tenant's location (auth answers within the caller's tenant).
            const location = await fetchLocation(ports, who, locationId);
            return pipe(
              pubSub.subscribe("order"),
              filter((u: OrderUpdate) => u.tenantId === who.tenantId && u.locationId === location.id),
            );
          },
          resolve: (u: OrderUpdate) => u,
        },
      },
    },
  });
}
