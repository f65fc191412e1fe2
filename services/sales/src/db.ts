import type { Generated } from "kysely";
import type { OutboxTable, ProcessedEventsTable } from "@lsp/db";
import type { PaymentMethod } from "@lsp/contracts";

export interface SalesDB extends OutboxTable, ProcessedEventsTable {
  menu_categories: {
    id: Generated<string>;
    tenant_id: string;
    name: string;
    sort_order: Generated<number>;
  };
  menu_items: {
    id: Generated<string>;
    tenant_id: string;
    category: string;
    name: string;
    price_vnd: number;
    cost_vnd: Generated<number>;
    available: Generated<boolean>;
  };
  /** Per-location override of an item's availability. */
  menu_item_locations: {
    tenant_id: string;
    item_id: string;
    location_id: string;
    available: boolean;
  };
  orders: {
    id: Generated<string>;
    tenant_id: string;
    location_id: string;
    status: Generated<"open" | "paid" | "voided">;
    payment_method: PaymentMethod;
    subtotal_vnd: Generated<number>;
    discount_vnd: Generated<number>;
    total_vnd: number;
    guests: number | null;
    staff_id: string | null;
    business_day: string;
    idempotency_key: string;
    created_at: Generated<Date>;
    paid_at: Date | null;
    payment_id: string | null;
    voided_at: Date | null;
    void_reason: string | null;
  };
  order_lines: {
    order_id: string;
    line_no: number;
    tenant_id: string;
    item_id: string;
    name: string;
    quantity: number;
    unit_price_vnd: number;
  };
  idempotency_keys: {
    tenant_id: string;
    key: string;
    operation: string;
    result: unknown;
    created_at: Generated<Date>;
  };
}
