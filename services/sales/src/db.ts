import type { Generated } from "kysely";
import type { OutboxTable } from "@lsp/service-kit";
import type { PaymentMethod } from "@lsp/contracts";

export interface SalesDB extends OutboxTable {
  menu_items: {
    id: Generated<string>;
    tenant_id: string;
    category: string;
    name: string;
    price_vnd: number;
    cost_vnd: Generated<number>;
    available: Generated<boolean>;
  };
  orders: {
    id: Generated<string>;
    tenant_id: string;
    location_id: string;
    status: Generated<"open" | "paid" | "voided">;
    payment_method: PaymentMethod;
    total_vnd: number;
    business_day: string;
    idempotency_key: string;
    created_at: Generated<Date>;
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
}
