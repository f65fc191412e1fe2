// Rebuilds the read model from the event journal (also the owner mutation `rebuildDashboard`, a
// background job that then drops the tenant's cached reports; after this CLI they expire within
// 60 s): per tenant, in one transaction, the order facts are dropped and every journaled event is
// applied again (no re-publication, no new journal rows). Readers see the old figures until the
// tenant's transaction commits.
//   DATABASE_URL=… node --import tsx src/rebuild.ts [tenantId…]
import { sql, type Kysely, type Transaction } from "kysely";
import { parseEvent } from "@lsp/contracts";
import { createDatabase, withTenant } from "@lsp/service-kit";
import type { DashboardDB } from "./db.js";
import { mergeFactsForRebuild, recomputeDays } from "./read-model.js";

export interface Replayed {
  events: number;
  days: { locationId: string; businessDay: string }[];
}

/** Replays the journal of the transaction's tenant into fresh facts. */
export async function replayJournal(trx: Transaction<DashboardDB>, tenantId: string): Promise<Replayed> {
  const events = await trx
    .selectFrom("event_journal")
    .select(["type", "data"])
    .where("tenant_id", "=", tenantId)
    .orderBy("received_at")
    .execute();
  await trx.deleteFrom("order_facts").execute(); // lines cascade; RLS keeps it to this tenant
  await trx.updateTable("location_days").set({ revenue_vnd: 0, orders: 0 }).execute();
  for (const e of events) {
    if (e.type !== "order.created" && e.type !== "order.paid" && e.type !== "order.voided") continue;
    await mergeFactsForRebuild(trx, { type: e.type, data: parseEvent(e.type, e.data) } as never);
  }
  await recomputeDays(trx);
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
