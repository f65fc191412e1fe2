import { z } from "zod";
import { DAY_MS, deleteOlderThan, deleteThroughFunction, type RetentionRule } from "@lsp/db";

/** Horizons in days (README: Retention says why each is what it is). */
export const retentionConfig = {
  RETENTION_NOTIFICATIONS_DAYS: z.coerce.number().positive().default(90),
  RETENTION_DEAD_LETTERS_DAYS: z.coerce.number().positive().default(30),
  RETENTION_PROCESSED_EVENTS_DAYS: z.coerce.number().positive().default(45),
  RETENTION_DAY_TOTALS_DAYS: z.coerce.number().positive().default(40),
  RETENTION_OUTBOX_DAYS: z.coerce.number().positive().default(7),
  RETENTION_INTERVAL_SECONDS: z.coerce.number().int().positive().default(900),
};

type Days = { [K in keyof typeof retentionConfig]: number };

export function retentionRules(c: Days): RetentionRule[] {
  // A replayed dead letter is the same event id again: its id must still be in processed_events
  // (kept longer than any dead letter) so that a consumer that handled it skips it.
  if (c.RETENTION_PROCESSED_EVENTS_DAYS <= c.RETENTION_DEAD_LETTERS_DAYS)
    throw new Error("RETENTION_PROCESSED_EVENTS_DAYS must be longer than RETENTION_DEAD_LETTERS_DAYS");
  return [
    {
      name: "notifications",
      horizonMs: c.RETENTION_NOTIFICATIONS_DAYS * DAY_MS,
      deleteBatch: deleteThroughFunction("purge_notifications"),
    },
    {
      name: "dead_letters",
      horizonMs: c.RETENTION_DEAD_LETTERS_DAYS * DAY_MS,
      deleteBatch: deleteThroughFunction("purge_dead_letters"),
    },
    {
      name: "day_totals",
      horizonMs: c.RETENTION_DAY_TOTALS_DAYS * DAY_MS,
      // Days whose digest went out only (migration 0004), by business day.
      deleteBatch: deleteThroughFunction("purge_day_totals"),
    },
    {
      name: "processed_events",
      horizonMs: c.RETENTION_PROCESSED_EVENTS_DAYS * DAY_MS,
      deleteBatch: deleteOlderThan({ table: "processed_events", column: "processed_at" }),
    },
    {
      name: "outbox",
      horizonMs: c.RETENTION_OUTBOX_DAYS * DAY_MS,
      // Published rows only: an unpublished row's NULL never compares older.
      deleteBatch: deleteOlderThan({ table: "outbox", column: "published_at" }),
    },
  ];
}
