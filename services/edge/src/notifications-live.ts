import type { Express } from "express";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import { createPubSub, filter, pipe } from "graphql-yoga";
import type { NotificationCreated } from "@lsp/contracts";
import { notificationRecipientOf, subscriptionRoute, type Logger } from "@lsp/service-kit";
import type { EdgeContext } from "./context.js";

/**
 * `notificationReceived`: the notifications service's `notification.created` events, delivered by
 * Dapr pub/sub (subscription `edge-notifications`, components/local/notifications.yaml) and
 * handed to the subscriptions of their user (and tenant) only. Served by Yoga over SSE, and over
 * graphql-ws wherever the edge speaks it.
 *
 * Note: Dapr delivers each message to one replica of an app; with several edge replicas the
 * pub/sub component needs a per-replica consumer id for every replica to see every notification.
 */
const pubSub = createPubSub<{ notification: [NotificationCreated] }>();

export function mountNotificationEvents(app: Express, log: Logger): void {
  subscriptionRoute(
    app,
    "/events/notifications",
    { "notification.created": async (_eventId, n) => pubSub.publish("notification", n) },
    log,
  );
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
            return pipe(
              pubSub.subscribe("notification"),
              filter((n: NotificationCreated) => n.tenantId === who.tenantId && n.userId === me),
            );
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
