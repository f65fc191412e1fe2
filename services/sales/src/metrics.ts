import { Counter } from "prom-client";
import type { PaymentMethod } from "@lsp/contracts";
import { registry } from "@lsp/runtime";

/**
 * Business counters, counted by sales because sales is the system of record: an order counts once,
 * when the transaction that created, paid or voided it commits (an idempotent replay commits
 * nothing and counts nothing). The dashboard read model was the other candidate: it applies each
 * event once too, but a rebuild applies its whole journal again, which would inflate a counter,
 * and it sees an order only after pub/sub. No tenant or location label: both are unbounded;
 * per-tenant figures are the dashboard's.
 */
const ordersTotal = new Counter({
  name: "sales_orders_total",
  help: "Orders committed by sales, by status change (created, paid, voided) and payment method",
  labelNames: ["status", "payment_method"] as const,
  registers: [registry],
});

const revenueVndTotal = new Counter({
  name: "sales_revenue_vnd_total",
  help: "Order totals in VND by status change: created (booked), paid (collected), voided (taken back); net revenue = created - voided",
  labelNames: ["status"] as const,
  registers: [registry],
});

export type OrderStatusChange = "created" | "paid" | "voided";

/** The changes one transaction makes, counted only once it has committed. */
export class OrderChanges {
  private readonly changes: { status: OrderStatusChange; paymentMethod: PaymentMethod; totalVnd: number }[] =
    [];

  add(status: OrderStatusChange, paymentMethod: PaymentMethod, totalVnd: number): void {
    this.changes.push({ status, paymentMethod, totalVnd });
  }

  /** Call after the commit; a rolled-back transaction never gets here. */
  countCommitted(): void {
    for (const c of this.changes.splice(0)) {
      ordersTotal.inc({ status: c.status, payment_method: c.paymentMethod });
      revenueVndTotal.inc({ status: c.status }, c.totalVnd);
    }
  }
}

const paymentMismatches = new Counter({
  name: "sales_payment_mismatches_total",
  help: "payment.succeeded events not applied because they disagree with the order (location or amount); each is logged",
  labelNames: ["reason"] as const,
  registers: [registry],
});

export function countPaymentMismatch(reason: "location-mismatch" | "amount-mismatch"): void {
  paymentMismatches.inc({ reason });
}
