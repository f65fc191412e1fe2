import { sql, type Kysely } from "kysely";
import { enableTenantIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  // A person, identified by a verified phone; one person may work for several tenants, so users
  // are not tenant rows: what ties a user to a tenant is a membership (tenant-scoped below).
  await db.schema
    .createTable("users")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("phone", "text", (c) =>
      c
        .notNull()
        .unique()
        .check(sql`phone ~ '^\\+84[0-9]{9}$'`),
    )
    .addColumn("name", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("memberships")
    .addColumn("tenant_id", "uuid", (c) => c.notNull().references("tenants.id"))
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("role", "text", (c) => c.notNull().check(sql`role IN ('owner', 'manager', 'staff')`))
    // NULL = every location of the tenant (owners, managers); staff always have a list.
    .addColumn("location_ids", sql`uuid[]`)
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("memberships_pk", ["tenant_id", "user_id"])
    .addCheckConstraint("staff_have_locations", sql`role <> 'staff' OR location_ids IS NOT NULL`)
    .execute();

  await db.schema
    .createTable("invites")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull().references("tenants.id"))
    .addColumn("phone", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull().check(sql`role IN ('manager', 'staff')`))
    .addColumn("location_ids", sql`uuid[]`)
    .addColumn("invited_by", "uuid", (c) => c.references("users.id"))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("accepted_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("invites_phone_idx").on("invites").columns(["tenant_id", "phone"]).execute();

  // Permanent (until revoked) codes a chain prints for its staff; joining makes a staff member.
  await db.schema
    .createTable("join_codes")
    .addColumn("code", "text", (c) => c.primaryKey().check(sql`code ~ '^[A-Z0-9]{8}$'`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull().references("tenants.id"))
    .addColumn("role", "text", (c) => c.notNull().check(sql`role IN ('manager', 'staff')`))
    .addColumn("location_ids", sql`uuid[]`)
    .addColumn("created_by", "uuid", (c) => c.references("users.id"))
    .addColumn("revoked_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Opaque refresh tokens, stored as SHA-256 hashes. A family starts at login; each use rotates
  // to a new token of the same family; presenting a rotated token again revokes the family.
  await db.schema
    .createTable("refresh_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("family_id", "uuid", (c) => c.notNull())
    .addColumn("tenant_id", "uuid", (c) => c.notNull().references("tenants.id"))
    .addColumn("user_id", "uuid", (c) => c.notNull().references("users.id"))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("rotated_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("refresh_family_idx").on("refresh_tokens").column("family_id").execute();

  for (const table of ["memberships", "invites", "join_codes", "refresh_tokens"])
    await enableTenantIsolation(db, table);
}
