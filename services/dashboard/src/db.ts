import type { Generated } from "kysely";
import type { OutboxTable, ProcessedEventsTable } from "@lsp/service-kit";

export interface DashboardDB extends ProcessedEventsTable, OutboxTable {
  /** One row per (location, business day) touched: serialises its updates; version counts them. */
  location_days: {
    tenant_id: string;
    location_id: string;
    business_day: string;
    revenue_vnd: Generated<number>;
    orders: Generated<number>;
    version: Generated<number>;
    updated_at: Generated<Date>;
  };
  order_facts: {
    tenant_id: string;
    order_id: string;
    location_id: string;
    business_day: string;
    created_at: Date | null;
    payment_method: string | null;
    subtotal_vnd: Generated<number>;
    discount_vnd: Generated<number>;
    total_vnd: Generated<number>;
    guests: number | null;
    staff_id: string | null;
    created_seen: Generated<boolean>;
    paid_at: Date | null;
    voided_at: Date | null;
  };
  order_fact_lines: {
    tenant_id: string;
    order_id: string;
    line_no: number;
    item_id: string;
    name: string;
    category: string | null;
    quantity: number;
    unit_price_vnd: number;
    unit_cost_vnd: number | null;
  };
  event_journal: {
    event_id: string;
    tenant_id: string;
    type: string;
    data: unknown;
    received_at: Generated<Date>;
  };
}
