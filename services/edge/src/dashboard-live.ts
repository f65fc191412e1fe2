import type { Express } from "express";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import { z } from "zod";
import { businessDay, type DashboardUpdated } from "@lsp/contracts";
import { AppError, type Logger } from "@lsp/runtime";
import { VndScalar } from "@lsp/graphql";
import { canAccessLocation } from "@lsp/identity";
import { fetchLocation } from "@lsp/locations";
import type { FlagKey } from "@lsp/contracts";
import type { FlagSubject } from "@lsp/flags";
import type { SidecarPorts } from "@lsp/dapr";
import type { EdgeContext } from "./context.js";
import { liveEvents } from "./live-events.js";
import { observeWebhookToScreen } from "./metrics.js";

/**
 * `dashboardUpdates(locationId)`: the dashboard's `dashboard.updated` events (new totals of a
 * location's business day, published after every order event it applies), delivered by Dapr
 * pub/sub (subscription `edge-dashboard`, components/local/subscriptions.yaml) to the
 * subscriptions of that location, within the caller's tenant and location access only, and only
 * for the location's current business day (history loads do not move the live tiles), never
 * older than what the subscriber already got (`newerOnly`).
 */
const updates = liveEvents("dashboard.updated", "/events/dashboard");

/** `onUpdate` runs for every delivered update before subscribers see it (cache invalidation). */
export function mountDashboardEvents(
  app: Express,
  log: Logger,
  onUpdate: (update: DashboardUpdated) => Promise<void>,
): void {
  updates.mount(app, log, onUpdate);
}

const typeDefs = /* GraphQL */ `
  scalar Vnd
  "New totals of a location's current business day (amounts in VND), sent after every change."
  type DashboardUpdate {
    locationId: ID!
    businessDay: String!
    "Net revenue of the business day so far."
    todayRevenue: Vnd!
    "Orders of the business day that are not voided."
    todayOrders: Int!
    "Preview (feature flag dashboard.preview): the day's average order; null while the flag is off."
    averageOrderVnd: Vnd
  }
  type Query {
    _dashboardLive: Boolean
  }
  type Subscription {
    "The location's day totals, each time an order of it is created, paid or voided."
    dashboardUpdates(locationId: ID!): DashboardUpdate!
  }
`;

const LocationId = z.uuid();

/**
 * One subscriber's guard against older totals: passes an update only when its version is above
 * the last one passed for the same business day. Updates of a location-day can arrive out of
 * order (each dashboard replica relays its own outbox; the sidecar delivers concurrently), and a
 * late one would show the tiles going back. An update without a version (sent before versions
 * were added) passes.
 */
export function newerOnly(): (update: Pick<DashboardUpdated, "businessDay" | "version">) => boolean {
  let day = "";
  let last = 0;
  return ({ businessDay, version }) => {
    if (version === undefined) return true;
    if (businessDay !== day) [day, last] = [businessDay, 0];
    if (version <= last) return false;
    last = version;
    return true;
  };
}

export function dashboardLiveSchema(
  ports: SidecarPorts,
  /** Feature flags (feature-flags.ts): dashboard.preview gates the preview fields. */
  flagOn: (flag: FlagKey, subject: FlagSubject) => boolean,
): GraphQLSchema {
  return makeExecutableSchema<EdgeContext>({
    typeDefs,
    resolvers: {
      Vnd: VndScalar,
      Subscription: {
        dashboardUpdates: {
          subscribe: async (_: unknown, args: { locationId: string }, ctx: EdgeContext) => {
            const who = ctx.identity();
            const locationId = LocationId.safeParse(args.locationId);
            if (!locationId.success)
              throw new AppError("BAD_USER_INPUT", "locationId is not a valid id", { field: "locationId" });
            if (!canAccessLocation(who, locationId.data))
              throw new AppError("FORBIDDEN", "no access to this location", { field: "locationId" });
            // NOT_FOUND for another tenant's location (auth answers within the caller's tenant).
            const location = await fetchLocation(ports, who, locationId.data);
            const fresh = newerOnly();
            return updates.subscribe(
              (u) =>
                u.tenantId === who.tenantId &&
                u.locationId === location.id &&
                u.businessDay === businessDay(new Date(), location.cutoverHour, location.timeZone) &&
                fresh(u),
            );
          },
          // Called once per subscriber, right before the update is sent to it.
          resolve: (u: DashboardUpdated) => {
            if (u.providerPaidAt) observeWebhookToScreen(u.providerPaidAt);
            return {
              locationId: u.locationId,
              businessDay: u.businessDay,
              todayRevenue: u.revenueVnd,
              todayOrders: u.orders,
              averageOrderVnd:
                u.orders > 0 &&
                flagOn("dashboard.preview", { tenantId: u.tenantId, locationId: u.locationId })
                  ? Math.round(u.revenueVnd / u.orders)
                  : null,
            };
          },
        },
      },
    },
  });
}
