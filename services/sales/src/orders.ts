import type { Kysely, Transaction } from "kysely";
import { z } from "zod";
import { PaymentMethod, businessDay } from "@lsp/contracts";
import {
  AppError,
  canAccessLocation,
  enqueueEvent,
  withTenant,
  type Identity,
  type LocationSettings,
} from "@lsp/service-kit";
import type { SalesDB } from "./db.js";

export const CreateOrderInput = z.object({
  locationId: z.uuid(),
  idempotencyKey: z.string().min(8).max(128),
  paymentMethod: PaymentMethod,
  lines: z
    .array(z.object({ itemId: z.uuid(), quantity: z.number().int().min(1).max(999) }))
    .min(1)
    .max(100),
});
export type CreateOrderInput = z.infer<typeof CreateOrderInput>;

export interface OrderView {
  id: string;
  locationId: string;
  status: "open" | "paid" | "voided";
  paymentMethod: PaymentMethod;
  totalVnd: number;
  businessDay: string;
  createdAt: string;
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
  return {
    id: order.id,
    locationId: order.location_id,
    status: order.status,
    paymentMethod: order.payment_method,
    totalVnd: order.total_vnd,
    businessDay: order.business_day,
    createdAt: order.created_at.toISOString(),
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

/**
 * Records an order and its `order.created` event in one transaction. Replaying the same
 * idempotency key returns the first order unchanged (also when two replays race).
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
  return withTenant(db, who.tenantId, async (trx) => {
    const existing = await loadOrder(trx, { idempotencyKey: input.idempotencyKey });
    if (existing) return existing;

    const itemIds = [...new Set(input.lines.map((l) => l.itemId))];
    const items = await trx
      .selectFrom("menu_items")
      .select(["id", "name", "price_vnd", "available"])
      .where("id", "in", itemIds)
      .execute();
    const byId = new Map(items.map((i) => [i.id, i]));
    const lines = input.lines.map((l) => {
      const item = byId.get(l.itemId);
      if (!item)
        throw new AppError("BAD_USER_INPUT", `unknown menu item ${l.itemId}`, { field: "lines.itemId" });
      if (!item.available)
        throw new AppError("BAD_USER_INPUT", `${item.name} is not available`, { field: "lines.itemId" });
      return { itemId: item.id, name: item.name, quantity: l.quantity, unitPriceVnd: item.price_vnd };
    });
    const totalVnd = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceVnd, 0);
    const day = businessDay(now, location.cutoverHour, location.timeZone);

    const inserted = await trx
      .insertInto("orders")
      .values({
        tenant_id: who.tenantId,
        location_id: location.id,
        payment_method: input.paymentMethod,
        total_vnd: totalVnd,
        business_day: day,
        idempotency_key: input.idempotencyKey,
        created_at: now,
      })
      .onConflict((c) => c.constraint("orders_idempotency_key").doNothing())
      .returning(["id"])
      .executeTakeFirst();
    if (!inserted) {
      // A concurrent request with the same key committed first.
      const winner = await loadOrder(trx, { idempotencyKey: input.idempotencyKey });
      if (!winner) throw new AppError("CONFLICT", "order is being created by a concurrent request; retry");
      return winner;
    }
    await trx
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
      .execute();
    await enqueueEvent(trx, "order.created", {
      orderId: inserted.id,
      tenantId: who.tenantId,
      locationId: location.id,
      businessDay: day,
      createdAt: now.toISOString(),
      paymentMethod: input.paymentMethod,
      totalVnd,
      lines,
    });
    const order = await loadOrder(trx, { id: inserted.id });
    if (!order) throw new AppError("INTERNAL", "order vanished inside its own transaction");
    return order;
  });
}
