import type { Generated } from "kysely";
import type { OutboxTable, ProcessedEventsTable } from "@lsp/db";

interface DayKey {
  tenant_id: string;
  location_id: string;
  business_day: string;
}

export interface DashboardDB extends ProcessedEventsTable, OutboxTable {
  /** One row per (location, business day) touched: serialises its updates; version counts them. */
  location_days: {
    tenant_id: string;
    location_id: string;
    business_day: string;
    /** The day's aggregates (migration 0005): sums over its orders, updated by difference. */
    revenue_vnd: Generated<number>;
    orders: Generated<number>;
    gross_vnd: Generated<number>;
    paid_orders: Generated<number>;
    guests: Generated<number>;
    guest_orders: Generated<number>;
    discounted_orders: Generated<number>;
    discount_vnd: Generated<number>;
    voided_orders: Generated<number>;
    voided_vnd: Generated<number>;
    /** The cut-over the day's order events carried (null before events carried it). */
    cutover_hour: number | null;
    version: Generated<number>;
    updated_at: Generated<Date>;
  };
  day_hours: DayKey & { hour: number; revenue_vnd: number; orders: number };
  day_items: DayKey & {
    item_id: string;
    name: string;
    category: string | null;
    quantity: number;
    revenue_vnd: number;
    cost_vnd: number;
  };
  /** Item sums per calendar month of business days (`month`: its first day; migration 0006). */
  month_items: {
    tenant_id: string;
    location_id: string;
    month: string;
    item_id: string;
    name: string;
    category: string | null;
    quantity: number;
    revenue_vnd: number;
    cost_vnd: number;
  };
  day_payments: DayKey & { method: string; orders: number; revenue_vnd: number };
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
    local_hour: number | null;
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
