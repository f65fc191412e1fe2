import type { ColumnType, Generated } from "kysely";
import type { OutboxTable, ProcessedEventsTable } from "@lsp/db";

export interface NotificationsDB extends OutboxTable, ProcessedEventsTable {
  notifications: {
    id: Generated<string>;
    tenant_id: string;
    user_id: string | null;
    location_id: string | null;
    kind: string;
    title: string;
    body: string;
    read_at: Date | null;
    created_at: Generated<Date>;
    source_event_id: string | null;
  };
  preferences: {
    tenant_id: string;
    user_id: string;
    muted_kinds: Generated<string[]>;
    push_enabled: Generated<boolean>;
    push_token: string | null;
    quiet_start_minute: number | null;
    quiet_end_minute: number | null;
    location_ids: string[] | null;
    updated_at: Generated<Date>;
  };
  dead_letters: {
    id: Generated<string>;
    tenant_id: string | null;
    topic: string;
    event_id: string;
    event_type: string;
    cloud_event: ColumnType<unknown, string, string>;
    received_at: Generated<Date>;
    replayed_at: Date | null;
    replays: Generated<number>;
  };
  day_totals: {
    tenant_id: string;
    location_id: string;
    business_day: string;
    revenue_vnd: number;
    orders: number;
    digest_sent_at: Date | null;
  };
}
