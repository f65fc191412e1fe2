import { sql, type Kysely } from "kysely";
import { createOutboxTable } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  // One live code per phone, in PostgreSQL rather than the state store so that an attempt is
  // counted by a single UPDATE … RETURNING before the code is compared: parallel guesses queue on
  // the row and at most `max attempts` of them are ever compared. Phone-level, before any tenant
  // is known, so not a tenant table. Only the HMAC of the code is kept.
  await db.schema
    .createTable("otp_codes")
    .addColumn("phone", "text", (c) => c.primaryKey())
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("sent_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();

  // Fixed-window counters (per phone, per client address, per tenant), incremented by one upsert.
  await db.schema
    .createTable("rate_limits")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("hits", "integer", (c) => c.notNull())
    .addColumn("window_ends", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("rate_limits_window_idx").on("rate_limits").column("window_ends").execute();
  await sql`CREATE INDEX otp_codes_expiry_idx ON otp_codes (expires_at)`.execute(db);

  // member.changed leaves through the transactional outbox (published by the relay after commit).
  await createOutboxTable(db);
}
