import type { Kysely, Selectable, Transaction } from "kysely";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { withScope, withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import type { SidecarPorts } from "@lsp/dapr";
import type { NotificationsDB } from "./db.js";
import { listDeadLetters, replayDeadLetter, type Redeliver } from "./dead-letters.js";
import { formatClock, parseClock } from "./quiet-hours.js";
import { recipientIdOf } from "./recipients.js";
import { KINDS } from "./templates.js";

export const typeDefs = /* GraphQL */ `
  type Notification {
    id: ID!
    "payment, payment_failed, recommendation, anomaly or digest"
    kind: String!
    title: String!
    body: String!
    locationId: ID
    read: Boolean!
    createdAt: String!
  }

  type NotificationPreferences {
    mutedKinds: [String!]!
    pushEnabled: Boolean!
    pushToken: String
    "HH:mm on the location's clock; no push between start and end (may wrap past midnight)."
    quietHoursStart: String
    quietHoursEnd: String
    "Null: every location of the tenant."
    locationIds: [ID!]
  }

  input NotificationPreferencesInput {
    mutedKinds: [String!]
    pushEnabled: Boolean
    "The device's FCM registration token."
    pushToken: String
    quietHoursStart: String
    quietHoursEnd: String
    locationIds: [ID!]
  }

  type DeadLetter {
    id: ID!
    topic: String!
    eventId: String!
    eventType: String!
    "The event's data, as JSON."
    data: String!
    receivedAt: String!
    replayedAt: String
    replays: Int!
  }

  type Query {
    notifications(first: Int = 20, unreadOnly: Boolean = false): [Notification!]!
    unreadNotificationCount: Int!
    notificationPreferences: NotificationPreferences!
    "Owners only: messages the platform gave up on after its retries."
    deadLetters(includeReplayed: Boolean = false): [DeadLetter!]!
  }

  type Mutation {
    "Marks the given notifications (all when ids is null) read; returns how many changed."
    markNotificationsRead(ids: [ID!]): Int!
    updateNotificationPreferences(input: NotificationPreferencesInput!): NotificationPreferences!
    "Owners only: publishes a dead letter again to its topic."
    replayDeadLetter(id: ID!): DeadLetter!
  }
`;

export interface NotificationsContext {
  db: Kysely<NotificationsDB>;
  ports: SidecarPorts;
  /** Runs a dead letter through notifications' own handler of its topic again (replay). */
  redeliver: Redeliver;
  identity: () => Identity;
}

const clock = z
  .string()
  .nullable()
  .refine((v) => v === null || parseClock(v) !== null, "expected HH:mm (00:00–23:59)");
const PreferencesInput = z.object({
  mutedKinds: z.array(z.enum(KINDS)).max(KINDS.length).optional(),
  pushEnabled: z.boolean().optional(),
  pushToken: z.string().min(1).max(4096).nullable().optional(),
  quietHoursStart: clock.optional(),
  quietHoursEnd: clock.optional(),
  locationIds: z.array(z.uuid()).max(500).nullable().optional(),
});

type PrefsRow = Selectable<NotificationsDB["preferences"]>;
const prefsView = (r: PrefsRow | undefined) => ({
  mutedKinds: r?.muted_kinds ?? [],
  pushEnabled: r?.push_enabled ?? true,
  pushToken: r?.push_token ?? null,
  quietHoursStart: r?.quiet_start_minute == null ? null : formatClock(r.quiet_start_minute),
  quietHoursEnd: r?.quiet_end_minute == null ? null : formatClock(r.quiet_end_minute),
  locationIds: r?.location_ids ?? null,
});

/**
 * The branches a preference row may name. A caller limited to some branches may name only those
 * (FORBIDDEN otherwise, nothing written), and "every branch" (null) means every branch of theirs;
 * a row saved before their scope shrank keeps only the branches they still hold. Undefined: no
 * change for an unlimited caller.
 */
async function preferenceLocations(
  trx: Transaction<NotificationsDB>,
  who: Identity,
  requested: string[] | null | undefined,
): Promise<string[] | null | undefined> {
  const scope = who.locationIds?.map((id) => id.toLowerCase());
  if (scope === undefined) return requested;
  const ids = requested?.map((id) => id.toLowerCase());
  const outside = ids?.filter((id) => !scope.includes(id)) ?? [];
  if (outside.length > 0)
    throw new AppError("FORBIDDEN", "preferences may name only your branches", {
      field: "locationIds",
      locationIds: outside,
    });
  if (ids !== undefined) return ids;
  if (requested === null) return scope;
  const saved = await trx
    .selectFrom("preferences")
    .select("location_ids")
    .where("user_id", "=", recipientIdOf(who))
    .executeTakeFirst();
  return (saved?.location_ids ?? scope).filter((id) => scope.includes(id));
}

function requireOwner(who: Identity): void {
  if (who.role !== "owner" && who.role !== "system") throw new AppError("FORBIDDEN", "owners only");
}

export const resolvers = {
  Query: {
    notifications: async (
      _: unknown,
      args: { first?: number; unreadOnly?: boolean },
      ctx: NotificationsContext,
    ) => {
      const who = ctx.identity();
      const first = z
        .number()
        .int()
        .min(1)
        .max(100)
        .parse(args.first ?? 20);
      // Row-level security keeps a caller limited to some branches to their entries (migration 0004).
      const rows = await withScope(ctx.db, who, (trx) => {
        let q = trx.selectFrom("notifications").selectAll().where("user_id", "=", recipientIdOf(who));
        if (args.unreadOnly) q = q.where("read_at", "is", null);
        return q.orderBy("created_at", "desc").limit(first).execute();
      });
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        title: r.title,
        body: r.body,
        locationId: r.location_id,
        read: r.read_at !== null,
        createdAt: r.created_at.toISOString(),
      }));
    },
    unreadNotificationCount: async (_: unknown, _args: unknown, ctx: NotificationsContext) => {
      const who = ctx.identity();
      const row = await withScope(ctx.db, who, (trx) =>
        trx
          .selectFrom("notifications")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("user_id", "=", recipientIdOf(who))
          .where("read_at", "is", null)
          .executeTakeFirstOrThrow(),
      );
      return Number(row.n);
    },
    notificationPreferences: async (_: unknown, _args: unknown, ctx: NotificationsContext) => {
      const who = ctx.identity();
      const row = await withTenant(ctx.db, who.tenantId, (trx) =>
        trx
          .selectFrom("preferences")
          .selectAll()
          .where("user_id", "=", recipientIdOf(who))
          .executeTakeFirst(),
      );
      return prefsView(row);
    },
    deadLetters: async (_: unknown, args: { includeReplayed?: boolean }, ctx: NotificationsContext) => {
      const who = ctx.identity();
      requireOwner(who);
      return listDeadLetters(ctx.db, who.tenantId, args.includeReplayed ?? false);
    },
  },
  Mutation: {
    markNotificationsRead: async (_: unknown, args: { ids?: string[] | null }, ctx: NotificationsContext) => {
      const who = ctx.identity();
      const ids = args.ids == null ? null : z.array(z.uuid()).max(500).parse(args.ids);
      const result = await withScope(ctx.db, who, (trx) => {
        let q = trx
          .updateTable("notifications")
          .set({ read_at: new Date() })
          .where("user_id", "=", recipientIdOf(who))
          .where("read_at", "is", null);
        if (ids) q = ids.length ? q.where("id", "in", ids) : q.where(({ lit }) => lit(false));
        return q.executeTakeFirst();
      });
      return Number(result.numUpdatedRows);
    },
    updateNotificationPreferences: async (
      _: unknown,
      args: { input: unknown },
      ctx: NotificationsContext,
    ) => {
      const who = ctx.identity();
      // Preferences are a person's: a member without a user id would write the owners' (the
      // tenant's) row and could silence their notices.
      if (who.role !== "owner" && !who.userId)
        throw new AppError("UNAUTHENTICATED", "preferences need a signed-in member");
      const input = PreferencesInput.parse(args.input);
      // Quiet hours are set (or cleared, with nulls) as a pair.
      const { quietHoursStart: qs, quietHoursEnd: qe } = input;
      if ((qs === undefined) !== (qe === undefined) || (qs === null) !== (qe === null))
        throw new AppError("BAD_USER_INPUT", "quiet hours need both a start and an end", {
          field: "quietHoursStart",
        });
      const minute = (v: string | null) => (v === null ? null : parseClock(v));
      const changes = {
        ...(input.mutedKinds !== undefined ? { muted_kinds: input.mutedKinds } : {}),
        ...(input.pushEnabled !== undefined ? { push_enabled: input.pushEnabled } : {}),
        ...(input.pushToken !== undefined ? { push_token: input.pushToken } : {}),
        ...(qs !== undefined && qe !== undefined
          ? { quiet_start_minute: minute(qs), quiet_end_minute: minute(qe) }
          : {}),
      };
      const row = await withScope(ctx.db, who, async (trx) => {
        const locationIds = await preferenceLocations(trx, who, input.locationIds);
        const scoped = { ...changes, ...(locationIds !== undefined ? { location_ids: locationIds } : {}) };
        // The database checks the branches again against the transaction's scope (migration 0004).
        return trx
          .insertInto("preferences")
          .values({ tenant_id: who.tenantId, user_id: recipientIdOf(who), ...scoped })
          .onConflict((c) =>
            c.constraint("preferences_pk").doUpdateSet({ ...scoped, updated_at: new Date() }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
      });
      return prefsView(row);
    },
    replayDeadLetter: async (_: unknown, args: { id: string }, ctx: NotificationsContext) => {
      const who = ctx.identity();
      requireOwner(who);
      return replayDeadLetter(ctx, who.tenantId, z.uuid().parse(args.id));
    },
  },
};
