import type { Express } from "express";
import { createPubSub, filter, pipe } from "graphql-yoga";
import type { EventPayload, EventType } from "@lsp/contracts";
import { subscriptionRoute, type EventHandlers } from "@lsp/dapr";
import type { Logger } from "@lsp/runtime";
import { countedEventTarget } from "./metrics.js";

/**
 * One pub/sub event type turned into a stream for GraphQL subscriptions at the edge: Dapr delivers
 * the topic to `route` (a declarative subscription scoped to edge, components/local/*.yaml), the
 * payload is checked against its contract by `subscriptionRoute`, and every open subscription
 * whose `visible` test passes receives it. Nothing is stored: a subscriber sees what arrives while
 * it is connected. Nothing streams through the sidecar (service invocation carries no WebSockets).
 *
 * Every edge replica receives every event: the edge's Subscriptions use `pubsub-fanout`, whose
 * consumer group is the replica's pod name (components/local/pubsub.yaml).
 */
export interface LiveEvents<T extends EventType> {
  /** Mounts the Dapr delivery endpoint on the edge's express app; `onEvent` sees each event first. */
  mount: (app: Express, log: Logger, onEvent?: (event: EventPayload<T>) => Promise<void>) => void;
  /** The events `visible` lets through, from now until the subscriber leaves. */
  subscribe: (
    visible: (event: EventPayload<T>) => boolean | Promise<boolean>,
  ) => AsyncIterable<EventPayload<T>>;
}

export function liveEvents<T extends EventType>(type: T, route: string): LiveEvents<T> {
  type Channels = Record<string, [EventPayload<T>]>;
  type Target = NonNullable<NonNullable<Parameters<typeof createPubSub<Channels>>[0]>["eventTarget"]>;
  // Its listeners are the open subscriptions, counted in edge_live_subscriptions{event}.
  const pubSub = createPubSub<Channels>({ eventTarget: countedEventTarget(type) as Target });
  return {
    mount(app, log, onEvent) {
      const deliver = async (_eventId: string, data: EventPayload<T>) => {
        await onEvent?.(data);
        pubSub.publish(type, data);
      };
      subscriptionRoute(app, route, { [type]: deliver } as EventHandlers, log);
    },
    subscribe(visible) {
      // createPubSub's typing cannot resolve a generic payload; the route above checked it.
      const all = pubSub.subscribe(type) as AsyncIterable<EventPayload<T>>;
      return pipe(all, filter(visible));
    },
  };
}
