import { sql, type Kysely, type Selectable, type Transaction } from "kysely";
import { z } from "zod";
import { PaymentMethod, businessDay, type PaymentSucceeded } from "@lsp/contracts";
import { AppError } from "@lsp/runtime";
import { canAccessLocation, type Identity } from "@lsp/identity";
import { claimEvent, enqueueEvent, withTenant, withTenantForEvent } from "@lsp/db";
import type { LocationSettings } from "@lsp/locations";
import type { SalesDB } from "./db.js";
import { runOnce } from "./idempotency.js";
import { LIMITS } from "./limits.js";
import { OrderChanges, countPaymentMismatch } from "./metrics.js";

const IdempotencyKey = z.string().min(8).max(128);
/** How far back an order may be dated (offline POS sync, history imports). */
const MAX_BACKDATE_MS = 400 * 24 * 3_600_000;
/** Clock skew tolerated for a client-given time. */
const MAX_FUTURE_MS = 5 * 60_000;

export const CreateOrderInput = z.object({
  locationId: z.uuid(),
  idempotencyKey: IdempotencyKey,
  paymentMethod: PaymentMethod,
  lines: z
    .array(
      z.object({
        itemId: z.uuid(),
        quantity: z
          .number()
          .int()
          .min(1)
          .max(LIMITS.lineQuantity, `at most ${LIMITS.lineQuantity} of one item per line`),
      }),
    )
    .min(1)
    .max(LIMITS.linesPerOrder, `at most ${LIMITS.linesPerOrder} lines per order`),
  discountVnd: z
    .number()
    .int()
    .min(0)
    .max(LIMITS.orderTotalVnd, `a discount is at most ${LIMITS.orderTotalVnd} VND`)
    .optional(),
  guests: z.number().int().min(1).max(LIMITS.guests).optional(),
  /** Paid on the spot (counter service): the order is created paid. */
  paid: z.boolean().optional(),
  /** When the order was taken, for offline POS sync and imports (owners and managers only). */
  occurredAt: z.iso.datetime({ offset: true }).optional(),
});
export type CreateOrderInput = z.infer<typeof CreateOrderInput>;

export const PayOrderInput = z.object({
  orderId: z.uuid(),
  idempotencyKey: IdempotencyKey,
  /** The method actually used, when it differs from the one on the order. */
  paymentMethod: PaymentMethod.optional(),
});
export type PayOrderInput = z.infer<typeof PayOrderInput>;

export const VoidOrderInput = z.object({
  orderId: z.uuid(),
  idempotencyKey: IdempotencyKey,
  reason: z.string().trim().min(1).max(500).optional(),
});
export type VoidOrderInput = z.infer<typeof VoidOrderInput>;

export interface OrderView {
  id: string;
  locationId: string;
  status: "open" | "paid" | "voided";
  paymentMethod: PaymentMethod;
  subtotalVnd: number;
  discountVnd: number;
  totalVnd: number;
  guests: number | null;
  staffId: string | null;
  businessDay: string;
  createdAt: string;
  paidAt: string | null;
  voidedAt: string | null;
  voidReason: string | null;
  lines: { itemId: string; name: string; quantity: number; unitPriceVnd: number }[];
}

async function loadOrder(
  trx: Transaction<SalesDB>,
  where: { id: string } | { idempotencyKey: string },
): Promise<OrderView | null> {
  let q = trx.selectFrom("orders").selectAll();
  q = "id" in where ? q.where("id", "=", where.id) : q.where("idempotency_key", "=", where.idempotencyKey);
  const order = await q.executeTakeFirst();
  if (!order) return null;
  const lines = await trx
    .selectFrom("order_lines")
    .selectAll()
    .where("order_id", "=", order.id)
    .orderBy("line_no")
    .execute();
  return orderView(order, lines);
}

type OrderRow = Selectable<SalesDB["orders"]>;
type OrderLineRow = Selectable<SalesDB["order_lines"]>;

/** An order and its lines (in line order) as the API shows them. */
function orderView(order: OrderRow, lines: readonly OrderLineRow[]): OrderView {
  return {
    id: order.id,
    locationId: order.location_id,
    status: order.status,
    paymentMethod: order.payment_method,
    subtotalVnd: order.subtotal_vnd,
    discountVnd: order.discount_vnd,
    totalVnd: order.total_vnd,
    guests: order.guests,
    staffId: order.staff_id,
    businessDay: order.business_day,
    createdAt: order.created_at.toISOString(),
    paidAt: order.paid_at?.toISOString() ?? null,
    voidedAt: order.voided_at?.toISOString() ?? null,
    voidReason: order.void_reason,
    lines: lines.map((l) => ({
      itemId: l.item_id,
      name: l.name,
      quantity: l.quantity,
      unitPriceVnd: l.unit_price_vnd,
    })),
  };
}

export async function getOrder(db: Kysely<SalesDB>, who: Identity, id: string): Promise<OrderView | null> {
  const order = await withTenant(db, who.tenantId, (trx) => loadOrder(trx, { id }));
  return order && canAccessLocation(who, order.locationId) ? order : null;
}

/** When the order happened: now, or a client-given time within the allowed window. */
function orderTime(who: Identity, input: CreateOrderInput, now: Date): Date {
  if (!input.occurredAt) return now;
  if (who.role === "staff")
    throw new AppError("FORBIDDEN", "only owners and managers may date an order", { field: "occurredAt" });
  const at = new Date(input.occurredAt);
  if (at.getTime() > now.getTime() + MAX_FUTURE_MS || at.getTime() < now.getTime() - MAX_BACKDATE_MS)
    throw new AppError("BAD_USER_INPUT", "occurredAt is outside the allowed window", { field: "occurredAt" });
  return at;
}

/**
 * Records an order and its `order.created` event (and `order.paid` when paid on the spot) in one
 * transaction. Replaying the same idempotency key returns the first order unchanged (also when
 * two replays race).
 */
export async function createOrder(
  db: Kysely<SalesDB>,
  who: Identity,
  location: LocationSettings,
  input: CreateOrderInput,
  now = new Date(),
): Promise<OrderView> {
  if (location.tenantId !== who.tenantId || !canAccessLocation(who, location.id)) {
    throw new AppError("FORBIDDEN", "no access to this location");
  }
  const at = orderTime(who, input, now);
  const changes = new OrderChanges();
  const created = await withTenant(db, who.tenantId, async (trx) => {
    const existing = await loadOrder(trx, { idempotencyKey: input.idempotencyKey });
    if (existing) return existing;

    const itemIds = [...new Set(input.lines.map((l) => l.itemId))];
    const items = await trx
      .selectFrom("menu_items as i")
      .leftJoin("menu_item_locations as l", (j) =>
        j.onRef("l.item_id", "=", "i.id").on("l.location_id", "=", location.id),
      )
      .select([
        "i.id",
        "i.name",
        "i.category",
        "i.price_vnd",
        "i.cost_vnd",
        sql<boolean>`coalesce(l.available, i.available)`.as("available"),
      ])
      .where("i.id", "in", itemIds)
      .execute();
    const byId = new Map(items.map((i) => [i.id, i]));
    const lines = input.lines.map((l) => {
      const item = byId.get(l.itemId);
      if (!item)
        throw new AppError("BAD_USER_INPUT", `unknown menu item ${l.itemId}`, { field: "lines.itemId" });
      if (!item.available)
        throw new AppError("BAD_USER_INPUT", `${item.name} is not available here`, { field: "lines.itemId" });
      // Menu prices are capped when set; a price stored before the cap cannot be sold.
      if (item.price_vnd > LIMITS.unitPriceVnd)
        throw new AppError("BAD_USER_INPUT", `${item.name} costs more than ${LIMITS.unitPriceVnd} VND`, {
          field: "lines.itemId",
          max: LIMITS.unitPriceVnd,
        });
      return {
        itemId: item.id,
        name: item.name,
        quantity: l.quantity,
        unitPriceVnd: item.price_vnd,
        category: item.category,
        unitCostVnd: item.cost_vnd,
      };
    });
    // At most 200 × 1,000 × 10^8 = 2 × 10^13: exact in a double, so the cap check itself is exact.
    const subtotalVnd = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceVnd, 0);
    if (subtotalVnd > LIMITS.orderTotalVnd)
      throw new AppError(
        "BAD_USER_INPUT",
        `an order is at most ${LIMITS.orderTotalVnd} VND (this one is ${subtotalVnd}); split it`,
        { field: "lines", max: LIMITS.orderTotalVnd },
      );
    const discountVnd = input.discountVnd ?? 0;
    if (discountVnd > subtotalVnd)
      throw new AppError("BAD_USER_INPUT", "the discount is larger than the order", {
        field: "discountVnd",
        max: subtotalVnd,
      });
    const totalVnd = subtotalVnd - discountVnd;
    const day = businessDay(at, location.cutoverHour, location.timeZone);

    const inserted = await trx
      .insertInto("orders")
      .values({
        tenant_id: who.tenantId,
        location_id: location.id,
        payment_method: input.paymentMethod,
        subtotal_vnd: subtotalVnd,
        discount_vnd: discountVnd,
        total_vnd: totalVnd,
        guests: input.guests ?? null,
        staff_id: who.userId ?? null,
        business_day: day,
        idempotency_key: input.idempotencyKey,
        created_at: at,
        status: input.paid ? "paid" : "open",
        paid_at: input.paid ? at : null,
        payment_id: null,
        voided_at: null,
        void_reason: null,
      })
      .onConflict((c) => c.constraint("orders_idempotency_key").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) {
      // A concurrent request with the same key committed first.
      const winner = await loadOrder(trx, { idempotencyKey: input.idempotencyKey });
      if (!winner) throw new AppError("CONFLICT", "order is being created by a concurrent request; retry");
      return winner;
    }
    const insertedLines = await trx
      .insertInto("order_lines")
      .values(
        lines.map((l, i) => ({
          order_id: inserted.id,
          line_no: i + 1,
          tenant_id: who.tenantId,
          item_id: l.itemId,
          name: l.name,
          quantity: l.quantity,
          unit_price_vnd: l.unitPriceVnd,
        })),
      )
      .returningAll()
      .execute();
    await enqueueEvent(trx, "order.created", {
      orderId: inserted.id,
      tenantId: who.tenantId,
      locationId: location.id,
      businessDay: day,
      createdAt: at.toISOString(),
      paymentMethod: input.paymentMethod,
      totalVnd,
      subtotalVnd,
      discountVnd,
      ...(input.guests ? { guests: input.guests } : {}),
      ...(who.userId ? { staffId: who.userId } : {}),
      lines,
      // The clock the business day was computed with: consumers bucket hours without asking auth.
      timeZone: location.timeZone,
      cutoverHour: location.cutoverHour,
    });
    changes.add("created", input.paymentMethod, totalVnd);
    if (input.paid) {
      changes.add("paid", input.paymentMethod, totalVnd);
      await enqueueEvent(trx, "order.paid", {
        orderId: inserted.id,
        tenantId: who.tenantId,
        locationId: location.id,
        businessDay: day,
        paidAt: at.toISOString(),
        paymentMethod: input.paymentMethod,
        totalVnd,
        timeZone: location.timeZone,
        cutoverHour: location.cutoverHour,
      });
    }
    // The rows as inserted (defaults included) are the order: no reading it back.
    return orderView(
      inserted,
      insertedLines.sort((a, b) => a.line_no - b.line_no),
    );
  });
  changes.countCommitted();
  return created;
}

/** The order row, locked for this transaction; NOT_FOUND also for another location's order. */
async function lockOrder(trx: Transaction<SalesDB>, who: Identity, orderId: string) {
  const row = await trx
    .selectFrom("orders")
    .selectAll()
    .where("id", "=", orderId)
    .forUpdate()
    .executeTakeFirst();
  if (!row || !canAccessLocation(who, row.location_id))
    throw new AppError("NOT_FOUND", `order ${orderId} not found`, { field: "orderId" });
  return row;
}

async function markPaid(
  trx: Transaction<SalesDB>,
  row: Selectable<SalesDB["orders"]>,
  method: PaymentMethod,
  paidAt: Date,
  changes: OrderChanges,
  paymentId?: string,
): Promise<void> {
  changes.add("paid", method, row.total_vnd);
  await trx
    .updateTable("orders")
    .set({ status: "paid", paid_at: paidAt, payment_method: method, payment_id: paymentId ?? null })
    .where("id", "=", row.id)
    .execute();
  await enqueueEvent(trx, "order.paid", {
    orderId: row.id,
    tenantId: row.tenant_id,
    locationId: row.location_id,
    businessDay: row.business_day,
    paidAt: paidAt.toISOString(),
    paymentMethod: method,
    totalVnd: row.total_vnd,
    ...(paymentId ? { paymentId } : {}),
  });
}

/** Staff settle an open order (cash, card, or a wallet confirmed at the counter). */
export async function payOrder(
  db: Kysely<SalesDB>,
  who: Identity,
  input: PayOrderInput,
  now = new Date(),
): Promise<OrderView> {
  const changes = new OrderChanges();
  const paid = await withTenant(db, who.tenantId, (trx) =>
    runOnce(trx, who.tenantId, input.idempotencyKey, `payOrder:${input.orderId}`, async () => {
      const row = await lockOrder(trx, who, input.orderId);
      if (row.status !== "open")
        throw new AppError("CONFLICT", `order is already ${row.status}`, { field: "orderId" });
      await markPaid(trx, row, input.paymentMethod ?? row.payment_method, now, changes);
      const order = await loadOrder(trx, { id: row.id });
      if (!order) throw new AppError("INTERNAL", "order vanished inside its own transaction");
      return order;
    }),
  );
  changes.countCommitted();
  return paid;
}

/** Voids an open or paid order once; voiding again is a CONFLICT and changes nothing. */
export async function voidOrder(
  db: Kysely<SalesDB>,
  who: Identity,
  input: VoidOrderInput,
  now = new Date(),
): Promise<OrderView> {
  if (who.role === "staff") throw new AppError("FORBIDDEN", "only owners and managers may void orders");
  const changes = new OrderChanges();
  const voided = await withTenant(db, who.tenantId, (trx) =>
    runOnce(trx, who.tenantId, input.idempotencyKey, `voidOrder:${input.orderId}`, async () => {
      const row = await lockOrder(trx, who, input.orderId);
      if (row.status === "voided")
        throw new AppError("CONFLICT", "order is already voided", { field: "orderId" });
      await trx
        .updateTable("orders")
        .set({ status: "voided", voided_at: now, void_reason: input.reason ?? null })
        .where("id", "=", row.id)
        .execute();
      await enqueueEvent(trx, "order.voided", {
        orderId: row.id,
        tenantId: row.tenant_id,
        locationId: row.location_id,
        businessDay: row.business_day,
        voidedAt: now.toISOString(),
        totalVnd: row.total_vnd,
        ...(input.reason ? { reason: input.reason } : {}),
      });
      changes.add("voided", row.payment_method, row.total_vnd);
      const order = await loadOrder(trx, { id: row.id });
      if (!order) throw new AppError("INTERNAL", "order vanished inside its own transaction");
      return order;
    }),
  );
  changes.countCommitted();
  return voided;
}

export type PaymentOutcome =
  "paid" | "duplicate" | "not-open" | "unknown-order" | "location-mismatch" | "amount-mismatch";

/**
 * `payment.succeeded` from payments: marks the order paid once per event, and only when the event
 * agrees with the order sales holds: the order is the event's tenant's (row-level security: another
 * tenant's order is "unknown-order"), at the event's location, for exactly its total. A payment
 * that does not match is counted (sales_payment_mismatches_total), logged by the caller and left
 * alone: the event is claimed, so it is never retried, and the order stays open for staff to
 * settle (payments keeps the money record; a refund is a human decision). An order already paid
 * or voided is left as it is too. Returns what happened, for the log.
 */
export async function applyPaymentSucceeded(
  db: Kysely<SalesDB>,
  eventId: string,
  p: PaymentSucceeded,
): Promise<PaymentOutcome> {
  const changes = new OrderChanges();
  // A consumer of a redelivered event: its commit does not hold the order's lock through an
  // fsync, and it answers (acknowledges) only once durable (@lsp/db withTenantForEvent).
  const outcome = await withTenantForEvent(db, p.tenantId, async (trx): Promise<PaymentOutcome> => {
    if (!(await claimEvent(trx, eventId))) return "duplicate";
    const row = await trx
      .selectFrom("orders")
      .selectAll()
      .where("id", "=", p.orderId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return "unknown-order";
    if (row.location_id !== p.locationId) return "location-mismatch";
    if (row.total_vnd !== p.amountVnd) return "amount-mismatch";
    if (row.status !== "open") return "not-open";
    await markPaid(trx, row, p.provider, new Date(p.occurredAt), changes, p.paymentId);
    return "paid";
  });
  changes.countCommitted();
  if (outcome === "location-mismatch" || outcome === "amount-mismatch") countPaymentMismatch(outcome);
  return outcome;
}
