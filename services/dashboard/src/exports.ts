import type { Express } from "express";
import type pg from "pg";
import { mountCsvExports, type CsvColumn, type CsvExport } from "@lsp/db";
import { serviceCallers } from "@lsp/identity";
import type { Logger } from "@lsp/runtime";
import type { SidecarPorts } from "@lsp/dapr";

/**
 * The CSV exports of the dashboard's read model (the edge signs the download link and asks for
 * it a slice of business days at a time; services/edge/src/exports.ts): daily summaries (one row
 * per business day with orders, from `location_days`, the figures the day report shows) and item
 * sales (one row per day and item, from `day_items`). Read-only, at `GET /v1/exports/<kind>`,
 * for the edge alone (system caller `edge`; components/access.yaml). VND as integers.
 */
interface DayRow {
  business_day: string;
  orders: number;
  paid_orders: number;
  voided_orders: number;
  gross_vnd: number;
  discount_vnd: number;
  revenue_vnd: number;
  voided_vnd: number;
  guests: number;
  guest_orders: number;
}

interface ItemRow {
  business_day: string;
  item_id: string;
  name: string;
  category: string | null;
  quantity: number;
  revenue_vnd: number;
  cost_vnd: number;
}

const dayColumns: CsvColumn<DayRow>[] = [
  { header: "business_day", value: (r) => r.business_day },
  { header: "orders", value: (r) => r.orders },
  { header: "paid_orders", value: (r) => r.paid_orders },
  { header: "voided_orders", value: (r) => r.voided_orders },
  { header: "gross_vnd", value: (r) => r.gross_vnd },
  { header: "discount_vnd", value: (r) => r.discount_vnd },
  { header: "net_revenue_vnd", value: (r) => r.revenue_vnd },
  { header: "voided_vnd", value: (r) => r.voided_vnd },
  // As the day report rounds it (src/report.ts): a whole number of VND.
  { header: "average_ticket_vnd", value: (r) => (r.orders ? Math.round(r.revenue_vnd / r.orders) : 0) },
  { header: "guests", value: (r) => (r.guest_orders > 0 ? r.guests : null) },
];

const itemColumns: CsvColumn<ItemRow>[] = [
  { header: "business_day", value: (r) => r.business_day },
  { header: "item_id", value: (r) => r.item_id },
  { header: "item_name", value: (r) => r.name },
  { header: "category", value: (r) => r.category },
  { header: "quantity", value: (r) => r.quantity },
  { header: "revenue_vnd", value: (r) => r.revenue_vnd },
  { header: "cost_vnd", value: (r) => r.cost_vnd },
];

const dailySummaries: CsvExport<DayRow> = {
  name: "daily_summaries",
  query: (s) => ({
    text: `SELECT business_day, orders, paid_orders, voided_orders, gross_vnd, discount_vnd, revenue_vnd,
        voided_vnd, guests, guest_orders
      FROM location_days
      WHERE location_id = $1 AND business_day BETWEEN $2 AND $3
      ORDER BY business_day`,
    values: [s.locationId, s.from, s.to],
  }),
  columns: dayColumns,
};

const itemSales: CsvExport<ItemRow> = {
  name: "item_sales",
  query: (s) => ({
    text: `SELECT business_day, item_id, name, category, quantity, revenue_vnd, cost_vnd
      FROM day_items
      WHERE location_id = $1 AND business_day BETWEEN $2 AND $3 AND quantity > 0
      ORDER BY business_day, revenue_vnd DESC, item_id`,
    values: [s.locationId, s.from, s.to],
  }),
  columns: itemColumns,
};

export function mountDashboardExports(app: Express, pool: pg.Pool, ports: SidecarPorts, log: Logger): void {
  mountCsvExports(app, {
    prefix: "/v1/exports",
    pool,
    callerOf: serviceCallers(ports, { systemCallers: ["edge"] }),
    log,
    exports: { "daily-summaries": dailySummaries, "item-sales": itemSales },
  });
}
