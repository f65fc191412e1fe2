import type { Kysely } from "kysely";
import { AppError, mergeKeys, uuidArg, type Logger } from "@lsp/runtime";
import type { Identity } from "@lsp/identity";
import { ownerSetFlag, tenantFlagAudit } from "./flags.js";
import type { AuthDB } from "./db.js";
import { WEEKDAYS } from "@lsp/contracts";
import {
  createLocation,
  listLocations,
  locationsByIds,
  requireLocation,
  setClosedWeekdays,
} from "./locations.js";
import {
  createJoinCode,
  invite,
  listInvites,
  listJoinCodes,
  listMembers,
  me,
  removeMember,
  revokeInvite,
  revokeJoinCode,
  setMemberRole,
  type MembersPolicy,
} from "./members.js";
import { inviteText } from "./invite-text.js";

export const typeDefs = /* GraphQL */ `
  type Tenant {
    id: ID!
    slug: String!
    name: String!
  }

  type Location @key(selectionSet: "{ id }") {
    id: ID!
    name: String!
    timeZone: String!
    "Hour (local time) at which the business day starts, e.g. 4 for 04:00."
    cutoverHour: Int!
    "Weekdays the location is closed every week, Monday first; empty when open every day."
    closedWeekdays: [Weekday!]!
  }

  enum Weekday {
    ${WEEKDAYS.join("\n    ")}
  }

  enum Role {
    OWNER
    MANAGER
    STAFF
  }

  type User {
    id: ID!
    "E.164, e.g. +84912345678."
    phone: String!
    name: String
  }

  type Me {
    user: User!
    role: Role!
    "The locations this login may act on (staff: their list; owners and managers: every one)."
    locations: [Location!]!
  }

  type Member {
    user: User!
    role: Role!
    "null = every location of the restaurant."
    locationIds: [ID!]
    since: String!
  }

  type Invite {
    id: ID!
    phone: String!
    role: Role!
    locationIds: [ID!]
    expiresAt: String!
    acceptedAt: String
    revokedAt: String
  }

  "A permanent code (until revoked) a chain gives its staff: log in with it to join."
  type JoinCode {
    code: String!
    role: Role!
    locationIds: [ID!]
    createdAt: String!
    revokedAt: String
  }

  input InviteInput {
    phone: String!
    role: Role!
    locationIds: [ID!]
    "Default 72."
    expiresInHours: Int
  }

  input JoinCodeInput {
    role: Role!
    locationIds: [ID!]
  }

  input LocationInput {
    name: String!
    "IANA zone; default Asia/Ho_Chi_Minh."
    timeZone: String
    "Hour (0-23, local) at which the business day starts; default 4."
    cutoverHour: Int
    "Weekdays closed every week (each at most once, at least one day open); default none."
    closedWeekdays: [Weekday!]
  }

  type MemberRemoval {
    userId: ID!
    removedAt: String!
    "Live sessions (refresh-token families' tokens) of the member revoked in this restaurant."
    revokedSessions: Int!
  }

  input MemberRoleInput {
    userId: ID!
    role: Role!
    locationIds: [ID!]
  }

  type Query {
    me: Me!
    tenant: Tenant!
    locations: [Location!]!
    location(id: ID!): Location
    "Owners and managers."
    members: [Member!]!
    "Owners and managers."
    invites: [Invite!]!
    "Owners."
    joinCodes: [JoinCode!]!
    _authLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
    "Owners: the changes of one feature flag for this restaurant, newest first."
    featureFlagAudit(key: String!): [FeatureFlagAuditEntry!]!
  }

  type Mutation {
    "Invite a phone as manager (owners) or staff (owners, managers); accepted at its first login."
    invite(input: InviteInput!): Invite!
    revokeInvite(id: ID!): Invite!
    createJoinCode(input: JoinCodeInput!): JoinCode!
    revokeJoinCode(code: String!): JoinCode!
    "Owners: change a member's role and locations (effective at the member's next token refresh)."
    setMemberRole(input: MemberRoleInput!): Member!
    """
    Remove a member: owners anyone but themselves (a restaurant keeps one owner); managers staff
    of their own branches only. Their sessions here are revoked and their live sockets closed.
    """
    removeMember(userId: ID!): MemberRemoval!
    "Owners: open another location."
    createLocation(input: LocationInput!): Location!
    """
    Owners: the weekdays a location is closed every week (the whole list; [] = open every day).
    The AI forecasts nothing on them. Each weekday at most once and at least one day open
    (BAD_USER_INPUT); managers and staff FORBIDDEN; another restaurant's location NOT_FOUND.
    """
    setClosedWeekdays(locationId: ID!, closedWeekdays: [Weekday!]!): Location!
    """
    Owners: switch an owner-controllable feature flag for their restaurant, or for one of its
    locations (enabled: null clears the rule, back to the platform's setting). Managers and
    staff, and flags the platform team switches: FORBIDDEN, nothing written. Audited.
    """
    setFeatureFlag(key: String!, enabled: Boolean, locationId: ID): FeatureFlagChange!
  }

  "One change of a feature flag's rule (what it was, what it is now)."
  type FeatureFlagChange {
    key: String!
    locationId: ID
    "on, off, or inherit (no rule); null when there was no rule before."
    previous: String
    current: String!
    "False when the rule already was this (nothing written)."
    changed: Boolean!
    at: String!
  }

  "Who changed a flag for this restaurant, when, from what to what."
  type FeatureFlagAuditEntry {
    at: String!
    locationId: ID
    "user:<id> (an owner) or platform:<name> (the platform team)."
    actor: String!
    actorRole: String!
    previous: String
    current: String!
  }
`;

export interface AuthContext {
  db: Kysely<AuthDB>;
  identity: () => Identity;
  /** Texts a phone through the `sms` output binding. */
  sendSms: (to: string, text: string) => Promise<void>;
  log: Logger;
  members: MembersPolicy;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const userOf = (m: { userId: string; phone: string; name: string | null }) => ({
  id: m.userId,
  phone: m.phone,
  name: m.name,
});
type Row = {
  role: string;
  location_ids: string[] | null;
  created_at: Date;
  revoked_at?: Date | null;
  expires_at?: Date;
  accepted_at?: Date | null;
};
const grantFields = (r: Row) => ({
  role: r.role,
  locationIds: r.location_ids,
  createdAt: iso(r.created_at),
  revokedAt: iso(r.revoked_at),
  expiresAt: iso(r.expires_at),
  acceptedAt: iso(r.accepted_at),
});

export const resolvers = {
  Role: { OWNER: "owner", MANAGER: "manager", STAFF: "staff" },
  Query: {
    featureFlagAudit: async (_: unknown, args: { key: string }, ctx: AuthContext) => {
      const who = ctx.identity();
      if (who.role !== "owner")
        throw new AppError("FORBIDDEN", "only the restaurant's owner reads its flag audit");
      return (await tenantFlagAudit(ctx.db, who.tenantId, args.key)).map((e) => ({
        at: e.at.toISOString(),
        locationId: e.locationId,
        actor: e.actor,
        actorRole: e.actorRole,
        previous: e.oldValue,
        current: e.newValue,
      }));
    },
    me: async (_: unknown, __: unknown, ctx: AuthContext) => {
      const who = ctx.identity();
      const mine = await me(ctx.db, who);
      return { ...mine, locations: await listLocations(ctx.db, who) };
    },
    tenant: async (_: unknown, __: unknown, ctx: AuthContext) => {
      const who = ctx.identity();
      return ctx.db
        .selectFrom("tenants")
        .select(["id", "slug", "name"])
        .where("id", "=", who.tenantId)
        .executeTakeFirstOrThrow();
    },
    locations: (_: unknown, __: unknown, ctx: AuthContext) => listLocations(ctx.db, ctx.identity()),
    location: (_: unknown, args: { id: string }, ctx: AuthContext) =>
      requireLocation(ctx.db, ctx.identity(), uuidArg(args.id, "id")).catch(() => null),
    members: async (_: unknown, __: unknown, ctx: AuthContext) =>
      (await listMembers(ctx.db, ctx.identity())).map((m) => ({
        user: userOf(m),
        role: m.role,
        locationIds: m.locationIds,
        since: m.createdAt.toISOString(),
      })),
    invites: async (_: unknown, __: unknown, ctx: AuthContext) =>
      (await listInvites(ctx.db, ctx.identity())).map((r) => ({ ...r, ...grantFields(r) })),
    joinCodes: async (_: unknown, __: unknown, ctx: AuthContext) =>
      (await listJoinCodes(ctx.db, ctx.identity())).map((r) => ({ ...r, ...grantFields(r) })),
    _authLocations: (_: unknown, args: { ids: string[] }, ctx: AuthContext) =>
      locationsByIds(ctx.db, ctx.identity(), mergeKeys(args.ids)),
  },
  Mutation: {
    setFeatureFlag: async (
      _: unknown,
      args: { key: string; enabled?: boolean | null; locationId?: string | null },
      ctx: AuthContext,
    ) => {
      const change = await ownerSetFlag(ctx.db, ctx.identity(), {
        flag: args.key,
        locationId: args.locationId ? uuidArg(args.locationId, "locationId") : null,
        value: args.enabled === true ? "on" : args.enabled === false ? "off" : "inherit",
      });
      return { ...change, key: change.flag, at: change.at.toISOString() };
    },
    createLocation: (_: unknown, args: { input: unknown }, ctx: AuthContext) =>
      createLocation(ctx.db, ctx.identity(), args.input),
    setClosedWeekdays: (
      _: unknown,
      args: { locationId: string; closedWeekdays: unknown },
      ctx: AuthContext,
    ) =>
      setClosedWeekdays(ctx.db, ctx.identity(), {
        locationId: uuidArg(args.locationId, "locationId"),
        closedWeekdays: args.closedWeekdays,
      }),
    invite: async (_: unknown, args: { input: unknown }, ctx: AuthContext) => {
      const who = ctx.identity();
      const r = await invite(ctx.db, who, args.input, ctx.members);
      // The invite stands even if the text does not leave: it is accepted at the phone's first
      // login either way, and the inviter sees it in `invites`.
      const tenant = await ctx.db
        .selectFrom("tenants")
        .select("name")
        .where("id", "=", who.tenantId)
        .executeTakeFirst();
      await ctx
        .sendSms(r.phone, inviteText(tenant?.name, r.role, r.expires_at))
        .catch((err: unknown) =>
          ctx.log.warn({ err, inviteId: r.id }, "invite SMS not sent; the invite stands"),
        );
      return { ...r, ...grantFields(r) };
    },
    revokeInvite: async (_: unknown, args: { id: string }, ctx: AuthContext) => {
      const r = await revokeInvite(ctx.db, ctx.identity(), args.id);
      return { ...r, ...grantFields(r) };
    },
    createJoinCode: async (_: unknown, args: { input: unknown }, ctx: AuthContext) => {
      const r = await createJoinCode(ctx.db, ctx.identity(), args.input);
      return { ...r, ...grantFields(r) };
    },
    revokeJoinCode: async (_: unknown, args: { code: string }, ctx: AuthContext) => {
      const r = await revokeJoinCode(ctx.db, ctx.identity(), args.code);
      return { ...r, ...grantFields(r) };
    },
    removeMember: async (_: unknown, args: { userId: string }, ctx: AuthContext) => {
      const r = await removeMember(ctx.db, ctx.identity(), args.userId);
      return { ...r, removedAt: r.removedAt.toISOString() };
    },
    setMemberRole: async (_: unknown, args: { input: unknown }, ctx: AuthContext) => {
      const m = await setMemberRole(ctx.db, ctx.identity(), args.input);
      return { user: userOf(m), role: m.role, locationIds: m.locationIds, since: m.createdAt.toISOString() };
    },
  },
};
