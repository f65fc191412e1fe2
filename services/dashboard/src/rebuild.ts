// Rebuilds the read model from the event journal (also the owner mutation `rebuildDashboard`, a
// background job that then drops the tenant's cached reports; after this CLI they expire within
// 60 s): per tenant, in one transaction, the order facts are dropped and every journaled event is
// applied again (no re-publication, no new journal rows). Readers see the old figures until the
// tenant's transaction commits.
//   DATABASE_URL=… node --import tsx src/rebuild.ts [tenantId…]
import { sql, type Kysely, type Transaction } from "kysely";
import { parseEvent } from "@lsp/contracts";
import { createDatabase, withTenant } from "@lsp/db";
import type { OrderEvent } from "./aggregate.js";
import type { DashboardDB } from "./db.js";
import { applyInTransaction, type IncomingEvent } from "./read-model.js";

export interface Replayed {
  events: number;
  days: { locationId: string; businessDay: string }[];
}

/** Events replayed per batch: the same batch path live events take, in journal order. */
const REPLAY_BATCH = 500;

/**
 * Replays the journal of the transaction's tenant into fresh facts and aggregates, through the
 * very code live batches use (applyInTransaction), so a rebuild gives the figures the live read
 * model gave. Location-day rows are kept (their versions only grow, so cached reports are never
 * mistaken for current); their sums are zeroed and rebuilt.
 */
export async function replayJournal(trx: Transaction<DashboardDB>, tenantId: string): Promise<Replayed> {
  const events = await trx
    .selectFrom("event_journal")
    .select(["event_id", "type", "data"])
    .where("tenant_id", "=", tenantId)
    .orderBy("received_at")
    .orderBy("event_id")
    .execute();
  await trx.deleteFrom("order_facts").execute(); // lines cascade; RLS keeps it to this tenant
  for (const table of ["day_hours", "day_items", "day_payments", "month_items"] as const)
    await trx.deleteFrom(table).execute();
  await trx
    .updateTable("location_days")
    .set({
      revenue_vnd: 0,
      orders: 0,
      gross_vnd: 0,
      paid_orders: 0,
      guests: 0,
      guest_orders: 0,
      discounted_orders: 0,
      discount_vnd: 0,
      voided_orders: 0,
      voided_vnd: 0,
    })
    .execute();
  const replayable: IncomingEvent[] = [];
  for (const e of events) {
    if (e.type !== "order.created" && e.type !== "order.paid" && e.type !== "order.voided") continue;
    replayable.push({
      eventId: e.event_id,
      event: { type: e.type, data: parseEvent(e.type, e.data) } as OrderEvent,
    });
  }
  for (let i = 0; i < replayable.length; i += REPLAY_BATCH)
    await applyInTransaction(trx, tenantId, replayable.slice(i, i + REPLAY_BATCH), {
      claim: false,
      journal: false,
      publish: false,
    });
  const days = await trx.selectFrom("location_days").select(["location_id", "business_day"]).execute();
  return {
    events: events.length,
    days: days.map((d) => ({ locationId: d.location_id, businessDay: d.business_day })),
  };
}

export function rebuildTenant(db: Kysely<DashboardDB>, tenantId: string): Promise<Replayed> {
  return withTenant(db, tenantId, (trx) => replayJournal(trx, tenantId));
}

export async function rebuildAll(
  db: Kysely<DashboardDB>,
  tenants?: string[],
): Promise<Record<string, number>> {
  const ids =
    tenants && tenants.length
      ? tenants
      : // The journal has row-level security: the owner-defined journal_tenants() (migration 0003)
        // names the tenants (ids only); each tenant's events are read in its own transaction.
        (
          await sql<{ tenant_id: string }>`SELECT tenant_id FROM journal_tenants() AS tenant_id`.execute(db)
        ).rows.map((r) => r.tenant_id);
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (await rebuildTenant(db, id)).events;
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.env.DATABASE_URL) throw new Error("usage: DATABASE_URL=… tsx src/rebuild.ts [tenantId…]");
  const { db } = createDatabase<DashboardDB>(process.env.DATABASE_URL, "dashboard", 2);
  const result = await rebuildAll(db, process.argv.slice(2));
  console.log(JSON.stringify({ rebuilt: result }));
  await db.destroy();
}
