import { z } from "zod";
import { DAY_MS, deleteOlderThan, deleteThroughFunction, type RetentionRule } from "@lsp/db";

/** Horizons in days (README: Retention says why). */
export const retentionConfig = {
  RETENTION_WEBHOOK_AUDIT_DAYS: z.coerce.number().positive().default(30),
  RETENTION_OUTBOX_DAYS: z.coerce.number().positive().default(7),
  RETENTION_INTERVAL_SECONDS: z.coerce.number().int().positive().default(900),
};

type Days = { [K in keyof typeof retentionConfig]: number };

export function retentionRules(c: Days): RetentionRule[] {
  return [
    {
      name: "webhook_audit",
      horizonMs: c.RETENTION_WEBHOOK_AUDIT_DAYS * DAY_MS,
      // Row-level security per tenant: the owner's function deletes across tenants (migration 0004).
      deleteBatch: deleteThroughFunction("purge_webhook_audit"),
    },
    {
      name: "outbox",
      horizonMs: c.RETENTION_OUTBOX_DAYS * DAY_MS,
      // Published rows only: an unpublished row's NULL never compares older.
      deleteBatch: deleteOlderThan({ table: "outbox", column: "published_at" }),
    },
  ];
}
