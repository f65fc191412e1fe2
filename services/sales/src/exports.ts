import type { CsvColumn, CsvExport } from "@lsp/db";

/**
 * The CSV exports sales owns (its own data): orders and order lines of one location over a slice
 * of business days, oldest first (business day, time taken, id: the list index read backwards).
 * Amounts are VND integers; times ISO 8601 in UTC, and the order's time again in the location's
 * time zone with its offset (`created_at_local`: PostgreSQL formats it in the session time zone
 * the edge named for the slice, @lsp/db streamCsv). Served by @lsp/db mountCsvExports at
 * `GET /v1/exports/<kind>` to the edge only, which signs the download link and stitches the
 * slices of a range together (services/edge/src/exports.ts).
 */
interface OrderRow {
  id: string;
  business_day: string;
  created_at: Date;
  created_at_local: string;
  status: string;
  payment_method: string;
  subtotal_vnd: number;
  discount_vnd: number;
  total_vnd: number;
  guests: number | null;
  staff_id: string | null;
  paid_at: Date | null;
  voided_at: Date | null;
  void_reason: string | null;
}

interface LineRow {
  order_id: string;
  business_day: string;
  created_at: Date;
  created_at_local: string;
  status: string;
  line_no: number;
  item_id: string;
  name: string;
  quantity: number;
  unit_price_vnd: number;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** ISO 8601 in the session's time zone with its offset, e.g. 2026-11-29T12:05:00.000+07:00. */
const localTime = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MSTZH:TZM')`;

const orderColumns: CsvColumn<OrderRow>[] = [
  { header: "order_id", value: (r) => r.id },
  { header: "business_day", value: (r) => r.business_day },
  { header: "created_at", value: (r) => iso(r.created_at) },
  { header: "created_at_local", value: (r) => r.created_at_local },
  { header: "status", value: (r) => r.status },
  { header: "payment_method", value: (r) => r.payment_method },
  { header: "subtotal_vnd", value: (r) => r.subtotal_vnd },
  { header: "discount_vnd", value: (r) => r.discount_vnd },
  { header: "total_vnd", value: (r) => r.total_vnd },
  { header: "guests", value: (r) => r.guests },
  { header: "staff_id", value: (r) => r.staff_id },
  { header: "paid_at", value: (r) => iso(r.paid_at) },
  { header: "voided_at", value: (r) => iso(r.voided_at) },
  { header: "void_reason", value: (r) => r.void_reason },
];

const lineColumns: CsvColumn<LineRow>[] = [
  { header: "order_id", value: (r) => r.order_id },
  { header: "business_day", value: (r) => r.business_day },
  { header: "created_at", value: (r) => iso(r.created_at) },
  { header: "created_at_local", value: (r) => r.created_at_local },
  { header: "order_status", value: (r) => r.status },
  { header: "line_no", value: (r) => r.line_no },
  { header: "item_id", value: (r) => r.item_id },
  { header: "item_name", value: (r) => r.name },
  { header: "quantity", value: (r) => r.quantity },
  { header: "unit_price_vnd", value: (r) => r.unit_price_vnd },
  // quantity ≤ 1,000 × price ≤ 10^8: exact.
  { header: "line_total_vnd", value: (r) => r.quantity * r.unit_price_vnd },
];

const orders: CsvExport<OrderRow> = {
  name: "orders",
  query: (s) => ({
    text: `SELECT id, business_day, created_at, ${localTime("created_at")} AS created_at_local, status, payment_method, subtotal_vnd, discount_vnd,
        total_vnd, guests, staff_id, paid_at, voided_at, void_reason
      FROM orders
      WHERE location_id = $1 AND business_day BETWEEN $2 AND $3
      ORDER BY business_day, created_at, id`,
    values: [s.locationId, s.from, s.to],
  }),
  columns: orderColumns,
};

const orderLines: CsvExport<LineRow> = {
  name: "order_lines",
  query: (s) => ({
    text: `SELECT o.id AS order_id, o.business_day, o.created_at, ${localTime("o.created_at")} AS created_at_local, o.status, l.line_no, l.item_id,
        l.name, l.quantity, l.unit_price_vnd
      FROM orders o JOIN order_lines l ON l.order_id = o.id
      WHERE o.location_id = $1 AND o.business_day BETWEEN $2 AND $3
      ORDER BY o.business_day, o.created_at, o.id, l.line_no`,
    values: [s.locationId, s.from, s.to],
  }),
  columns: lineColumns,
};

/** Kind (the route's last segment) → what it streams. */
export const SALES_EXPORTS = { orders, "order-lines": orderLines } as const;
