import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import { Repeater } from "graphql-yoga";
import { z } from "zod";
import { AppError, type Logger } from "@lsp/runtime";
import { canAccessLocation, type Identity } from "@lsp/identity";
import { fetchLocation } from "@lsp/locations";
import { liveFlags, type EvaluatedFlag, type FlagSubject, type FlagTable } from "@lsp/flags";
import type { FlagKey } from "@lsp/contracts";
import type { SidecarPorts } from "@lsp/dapr";
import type { DaprClient } from "@lsp/dapr/configuration";
import type { EdgeContext } from "./context.js";

/**
 * Feature flags at the edge (issue 16): the `flags` configuration store, subscribed through the
 * edge's sidecar and held in memory (@lsp/flags liveFlags), gates the edge's own behaviour per
 * request (`isOn`) and is served to clients: `featureFlags` (the caller's evaluated set) and
 * `featureFlagsChanged` (that set again whenever a change of the store changes it). Owners switch
 * their flags through auth's `setFeatureFlag` (stitched); the change reaches every edge replica
 * through the store's notification, not through this process.
 */
export interface EdgeFlags {
  table: FlagTable;
  ready: Promise<void>;
  stop: () => void;
  /** Whether `flag` is on for this tenant (and location); memory only. */
  isOn: (flag: FlagKey, subject: FlagSubject) => boolean;
}

export function edgeFlags(dapr: DaprClient, log: Logger): EdgeFlags {
  const live = liveFlags(dapr, log);
  return { ...live, isOn: (flag, subject) => live.table.isEnabled(flag, subject) };
}

const typeDefs = /* GraphQL */ `
  "A feature flag as it applies to the caller (their restaurant, location and role)."
  type FeatureFlag {
    key: String!
    enabled: Boolean!
    description: String!
    "True when the caller may switch it (owners, for owner-controllable flags): setFeatureFlag."
    canChange: Boolean!
  }
  type Query {
    """
    The caller's feature flags: for their restaurant, and for locationId when given (or their one
    location when they are limited to one).
    """
    featureFlags(locationId: ID): [FeatureFlag!]!
  }
  type Subscription {
    "The caller's whole set of feature flags: first as it is, then each time a change alters it."
    featureFlagsChanged(locationId: ID): [FeatureFlag!]!
  }
`;

const LocationId = z.uuid();

/** Whom a caller's flags are evaluated for: their tenant, and a location they may see. */
async function subjectOf(ports: SidecarPorts, who: Identity, locationId: unknown): Promise<FlagSubject> {
  if (locationId === undefined || locationId === null) {
    const only = who.locationIds?.length === 1 ? who.locationIds[0] : undefined;
    return { tenantId: who.tenantId, ...(only ? { locationId: only } : {}) };
  }
  const parsed = LocationId.safeParse(locationId);
  if (!parsed.success)
    throw new AppError("BAD_USER_INPUT", "locationId is not a valid id", { field: "locationId" });
  if (!canAccessLocation(who, parsed.data))
    throw new AppError("FORBIDDEN", "no access to this location", { field: "locationId" });
  // NOT_FOUND for another tenant's location: its rules are never evaluated for this caller.
  const location = await fetchLocation(ports, who, parsed.data);
  return { tenantId: who.tenantId, locationId: location.id };
}

const forCaller = (flags: EvaluatedFlag[], who: Identity) =>
  flags.map((f) => ({
    key: f.key,
    enabled: f.enabled,
    description: f.description,
    canChange: f.ownerControllable && who.role === "owner",
  }));

export function featureFlagsSchema(flags: EdgeFlags, ports: SidecarPorts): GraphQLSchema {
  return makeExecutableSchema<EdgeContext>({
    typeDefs,
    resolvers: {
      Query: {
        featureFlags: async (_: unknown, args: { locationId?: string | null }, ctx: EdgeContext) => {
          const who = ctx.identity();
          const subject = await subjectOf(ports, who, args.locationId);
          return forCaller(flags.table.evaluateAll(subject), who);
        },
      },
      Subscription: {
        featureFlagsChanged: {
          subscribe: async (_: unknown, args: { locationId?: string | null }, ctx: EdgeContext) => {
            const who = ctx.identity();
            const subject = await subjectOf(ports, who, args.locationId);
            return new Repeater<ReturnType<typeof forCaller>>(async (push, stop) => {
              // Evaluated again on every change of the store (memory only, a few µs), sent only
              // when this caller's set differs from the last one sent: a change for another
              // restaurant sends nothing here.
              let last = "";
              const emit = () => {
                const set = forCaller(flags.table.evaluateAll(subject), who);
                const text = JSON.stringify(set);
                if (text === last) return;
                last = text;
                void push(set);
              };
              emit();
              const off = flags.table.onChange(emit);
              await stop;
              off();
            });
          },
          resolve: (set: ReturnType<typeof forCaller>) => set,
        },
      },
    },
  });
}
