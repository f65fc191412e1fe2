import { sql, type Kysely, type Transaction } from "kysely";

export interface ProcessedEventsTable {
  processed_events: { event_id: string; processed_at: Date };
}

/**
 * Claims an event id inside the handler's transaction. Returns false when it was processed
 * before (at-least-once delivery), so the caller skips it; the claim commits with the effects.
 */
export async function claimEvent<DB>(trx: Transaction<DB> | Kysely<DB>, eventId: string): Promise<boolean> {
  const result =
    await sql`INSERT INTO processed_events (event_id) VALUES (${eventId}) ON CONFLICT DO NOTHING`.execute(
      trx,
    );
  return Number(result.numAffectedRows ?? 0n) === 1;
}
