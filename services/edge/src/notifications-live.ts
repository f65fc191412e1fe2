import type { Express } from "express";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import type { NotificationCreated } from "@lsp/contracts";
import { notificationRecipientOf } from "@lsp/contracts";
import type { Logger } from "@lsp/runtime";
import type { EdgeContext } from "./context.js";
import { liveEvents } from "./live-events.js";

/**
 * `notificationReceived`: the notifications service's `notification.created` events, delivered by
 * Dapr pub/sub (subscription `edge-notifications`, components/local/notifications.yaml) and
 * handed to the subscriptions of their user (and tenant) only. Served by Yoga over SSE, and over
 * graphql-ws wherever the edge speaks it.
 */
const notifications = liveEvents("notification.created", "/events/notifications");

export function mountNotificationEvents(app: Express, log: Logger): void {
  notifications.mount(app, log);
}

const typeDefs = /* GraphQL */ `
  type Notification {
    id: ID!
    kind: String!
    title: String!
    body: String!
    locationId: ID
    read: Boolean!
    createdAt: String!
  }
  type Query {
    _notificationsLive: Boolean
  }
  type Subscription {
    "New entries of the caller's notification feed, as they are written."
    notificationReceived: Notification!
  }
`;

export function notificationsLiveSchema(): GraphQLSchema {
  return makeExecutableSchema<EdgeContext>({
    typeDefs,
    resolvers: {
      Subscription: {
        notificationReceived: {
          subscribe: (_: unknown, _args: unknown, ctx: EdgeContext) => {
            const who = ctx.identity();
            const me = notificationRecipientOf(who);
            return notifications.subscribe((n) => n.tenantId === who.tenantId && n.userId === me);
          },
          resolve: (n: NotificationCreated) => ({
            id: n.notificationId,
            kind: n.kind,
            title: n.title,
            body: n.body,
            locationId: n.locationId ?? null,
            read: false,
            createdAt: n.createdAt,
          }),
        },
      },
    },
  });
}
