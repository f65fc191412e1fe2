import type { Generated } from "kysely";
import type { OutboxTable } from "@lsp/db";
import type { Weekday } from "@lsp/contracts";

export interface TenantsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  created_at: Generated<Date>;
}

export interface LocationsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  time_zone: Generated<string>;
  cutover_hour: Generated<number>;
  /** Names of @lsp/contracts' WEEKDAYS, Monday first; empty = open every day. */
  closed_weekdays: Generated<Weekday[]>;
  created_at: Generated<Date>;
}

export interface AuthDB extends OutboxTable {
  tenants: TenantsTable;
  locations: LocationsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  invites: InvitesTable;
  join_codes: JoinCodesTable;
  refresh_tokens: RefreshTokensTable;
  otp_codes: OtpCodesTable;
  rate_limits: RateLimitsTable;
  feature_flags: FeatureFlagsTable;
  feature_flag_audit: FeatureFlagAuditTable;
}

/** The `flags` configuration store's table (migration 0005): exactly the component's columns. */
export interface FeatureFlagsTable {
  key: string;
  value: string;
  version: string;
  metadata: Generated<Record<string, string>>;
}

export interface FeatureFlagAuditTable {
  id: Generated<string>;
  at: Generated<Date>;
  flag: string;
  item_key: string;
  tenant_id: string | null;
  location_id: string | null;
  actor: string;
  actor_role: string;
  old_value: string | null;
  new_value: string;
}

export type Role = "owner" | "manager" | "staff";

export interface UsersTable {
  id: Generated<string>;
  phone: string;
  name: string | null;
  created_at: Generated<Date>;
}

export interface MembershipsTable {
  tenant_id: string;
  user_id: string;
  role: Role;
  /** null = every location of the tenant. */
  location_ids: string[] | null;
  created_at: Generated<Date>;
}

export interface InvitesTable {
  id: Generated<string>;
  tenant_id: string;
  phone: string;
  role: Exclude<Role, "owner">;
  location_ids: string[] | null;
  invited_by: string | null;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
  created_at: Generated<Date>;
}

export interface JoinCodesTable {
  code: string;
  tenant_id: string;
  role: Exclude<Role, "owner">;
  location_ids: string[] | null;
  created_by: string | null;
  revoked_at: Date | null;
  created_at: Generated<Date>;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  tenant_id: string;
  user_id: string;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
  created_at: Generated<Date>;
}

/** The live login code of a phone (HMAC only); `attempts` is counted before each compare. */
export interface OtpCodesTable {
  phone: string;
  code_hash: string;
  attempts: Generated<number>;
  sent_at: Date;
  expires_at: Date;
}

export interface RateLimitsTable {
  key: string;
  hits: number;
  window_ends: Date;
}
