import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { z } from "zod";
import { businessDay } from "@lsp/contracts";
import { AppError, businessDayArg, uuidArg } from "@lsp/runtime";
import { canAccessLocation, type Identity } from "@lsp/identity";
import { withTenant } from "@lsp/db";
import type { LocationSettings } from "@lsp/locations";
import type { SalesDB } from "./db.js";
import type { OrderView } from "./orders.js";

/**
 * The caps of an order list (`orders(…)`): a page is at most 100 orders (a floor screen shows
 * tens; more is a bulk read, which is what exports are for), and a range at most 92 business days
 * (a quarter: past it, the count and the pages read more than a screen needs; exports take a year).
 */
export const ORDER_LIST_LIMITS = { defaultPage: 20, maxPage: 100, maxRangeDays: 92 } as const;

const OrderStatus = z.enum(["open", "paid", "voided"]);

export interface OrderListArgs {
  locationId: string;
  businessDay?: string | null;
  from?: string | null;
  to?: string | null;
  status?: string | null;
  staffId?: string | null;
  /** Only orders created, paid or voided at or after this instant (ISO 8601): a reconnect's catch-up. */
  changedSince?: string | null;
  first?: number | null;
  after?: string | null;
}

/** The filter of a list, parsed: what a cursor is bound to. */
interface OrderFilter {
  locationId: string;
  from: string;
  to: string;
  status: "open" | "paid" | "voided" | null;
  staffId: string | null;
  /** ISO 8601 in UTC with milliseconds (the precision of orderUpdates' `at`), or null. */
  changedSince: string | null;
}

/** Where a page starts: just after this order in the list's order (business day, time, id, newest first). */
interface CursorKey {
  businessDay: string;
  /** created_at exactly as PostgreSQL printed it (microseconds kept: a JS Date would round them). */
  createdAt: string;
  id: string;
}

const CursorPayload = z.object({
  v: z.literal(1),
  /** Hash of the filter the cursor was issued for: a cursor only continues its own list. */
  q: z.string().length(16),
  d: z.iso.date(),
  t: z.string().min(10).max(40),
  i: z.uuid(),
});

function filterHash(f: OrderFilter): string {
  return createHash("sha256")
    .update(JSON.stringify([f.locationId, f.from, f.to, f.status, f.staffId, f.changedSince]))
    .digest("base64url")
    .slice(0, 16);
}

/** Opaque to clients (base64url of a small JSON document); nothing in it is trusted unchecked. */
export function encodeCursor(f: OrderFilter, key: CursorKey): string {
  return Buffer.from(
    JSON.stringify({ v: 1, q: filterHash(f), d: key.businessDay, t: key.createdAt, i: key.id }),
  ).toString("base64url");
}

function badCursor(why: string): AppError {
  return new AppError("BAD_USER_INPUT", `after: ${why}`, { field: "after" });
}

/** A cursor back to its key, or BAD_USER_INPUT: malformed, made up, or issued for another list. */
export function decodeCursor(f: OrderFilter, cursor: string): CursorKey {
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor("not a cursor of this list");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badCursor("not a cursor of this list");
  }
  const parsed = CursorPayload.safeParse(json);
  if (!parsed.success) throw badCursor("not a cursor of this list");
  if (parsed.data.q !== filterHash(f))
    throw badCursor(
      "this cursor belongs to another list (location, days, status, staff or changedSince differ)",
    );
  if (parsed.data.d < f.from || parsed.data.d > f.to) throw badCursor("not a cursor of this list");
  return { businessDay: parsed.data.d, createdAt: parsed.data.t, id: parsed.data.i };
}

const DAY_MS = 86_400_000;

/** The list's filter from its arguments (BAD_USER_INPUT naming the field and the cap otherwise). */
export function parseOrderFilter(args: OrderListArgs, location: LocationSettings, now: Date): OrderFilter {
  const hasDay = args.businessDay != null;
  const hasRange = args.from != null || args.to != null;
  if (hasDay && hasRange)
    throw new AppError("BAD_USER_INPUT", "give businessDay or from/to, not both", { field: "businessDay" });
  let from: string;
  let to: string;
  if (hasRange) {
    if (args.from == null || args.to == null)
      throw new AppError("BAD_USER_INPUT", "from and to go together", {
        field: args.from == null ? "from" : "to",
      });
    from = businessDayArg(args.from, "from");
    to = businessDayArg(args.to, "to");
    if (from > to) throw new AppError("BAD_USER_INPUT", "from is after to", { field: "from" });
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
    if (days > ORDER_LIST_LIMITS.maxRangeDays)
      throw new AppError(
        "BAD_USER_INPUT",
        `a list spans at most ${ORDER_LIST_LIMITS.maxRangeDays} business days (this one ${days}); export longer ranges`,
        { field: "to", max: ORDER_LIST_LIMITS.maxRangeDays },
      );
  } else {
    // No day given: the location's current business day (its time zone and cut-over).
    from = to = hasDay
      ? businessDayArg(args.businessDay, "businessDay")
      : businessDay(now, location.cutoverHour, location.timeZone);
  }
  let status: OrderFilter["status"] = null;
  if (args.status != null) {
    const s = OrderStatus.safeParse(args.status);
    if (!s.success)
      throw new AppError("BAD_USER_INPUT", "status is open, paid or voided", { field: "status" });
    status = s.data;
  }
  if (args.staffId != null && (args.staffId.length < 1 || args.staffId.length > 128))
    throw new AppError("BAD_USER_INPUT", "staffId is 1–128 characters", { field: "staffId" });
  let changedSince: string | null = null;
  if (args.changedSince != null) {
    if (!z.iso.datetime({ offset: true }).safeParse(args.changedSince).success)
      throw new AppError(
        "BAD_USER_INPUT",
        "changedSince is an ISO 8601 date and time, e.g. an orderUpdates at",
        {
          field: "changedSince",
        },
      );
    changedSince = new Date(args.changedSince).toISOString();
  }
  return { locationId: location.id, from, to, status, staffId: args.staffId ?? null, changedSince };
}

export function pageSize(first: number | null | undefined): number {
  if (first == null) return ORDER_LIST_LIMITS.defaultPage;
  if (!Number.isInteger(first) || first < 1 || first > ORDER_LIST_LIMITS.maxPage)
    throw new AppError("BAD_USER_INPUT", `first is 1–${ORDER_LIST_LIMITS.maxPage}`, {
      field: "first",
      max: ORDER_LIST_LIMITS.maxPage,
    });
  return first;
}

export interface OrderConnection {
  edges: { cursor: string; node: OrderView }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

/**
 * One page of a location's orders, newest first by (business day, time taken, id): a keyset page
 * (rows after the cursor's key, never OFFSET), so a page costs the same however deep it is and an
 * order taken meanwhile never shifts or repeats rows of the pages after it. `totalCount` counts
 * the whole filter. Read in one transaction bound to the caller's tenant (row-level security), so
 * another tenant's location lists nothing whatever the caller sends; branch scope is checked
 * first (staff: their branches only). A cursor must name an order of this location and list.
 */
export async function listOrders(
  db: Kysely<SalesDB>,
  who: Identity,
  location: LocationSettings,
  args: OrderListArgs,
  now = new Date(),
): Promise<OrderConnection> {
  uuidArg(args.locationId, "locationId");
  if (location.tenantId !== who.tenantId || !canAccessLocation(who, location.id))
    throw new AppError("FORBIDDEN", "no access to this location", { field: "locationId" });
  const filter = parseOrderFilter(args, location, now);
  const size = pageSize(args.first);
  const after = args.after != null ? decodeCursor(filter, args.after) : null;

  return withTenant(db, who.tenantId, async (trx) => {
    const filtered = () => {
      let q = trx
        .selectFrom("orders")
        .where("tenant_id", "=", who.tenantId)
        .where("location_id", "=", filter.locationId)
        .where("business_day", ">=", filter.from)
        .where("business_day", "<=", filter.to);
      if (filter.status) q = q.where("status", "=", filter.status);
      if (filter.staffId) q = q.where("staff_id", "=", filter.staffId);
      // Its last change (created, paid or voided), to the millisecond orderUpdates' `at` carries:
      // inclusive, so a catch-up from the last `at` seen misses nothing (it may repeat that one).
      if (filter.changedSince)
        q = q.where(
          sql<boolean>`date_trunc('milliseconds', greatest(created_at, paid_at, voided_at)) >= ${filter.changedSince}::timestamptz`,
        );
      return q;
    };
    if (after) {
      // The cursor's order must exist where the cursor says (a made-up key is refused, not paged).
      const anchor = await trx
        .selectFrom("orders")
        .select("id")
        .where("id", "=", after.id)
        .where("location_id", "=", filter.locationId)
        .where("business_day", "=", after.businessDay)
        // Compared as text, as it was printed: junk in a forged cursor cannot break the cast.
        .where(sql<boolean>`created_at::text = ${after.createdAt}`)
        .executeTakeFirst();
      if (!anchor) throw badCursor("unknown cursor");
    }
    let page = filtered()
      .selectAll()
      .select(sql<string>`created_at::text`.as("created_at_key"));
    if (after)
      page = page.where(
        sql<boolean>`(business_day, created_at, id) < (${after.businessDay}::date, ${after.createdAt}::timestamptz, ${after.id}::uuid)`,
      );
    const [rows, count] = await Promise.all([
      page
        .orderBy("business_day", "desc")
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(size + 1)
        .execute(),
      filtered()
        .select(sql<number>`count(*)::int`.as("n"))
        .executeTakeFirstOrThrow(),
    ]);
    const hasNextPage = rows.length > size;
    const shown = rows.slice(0, size);
    const lines =
      shown.length === 0
        ? []
        : await trx
            .selectFrom("order_lines")
            .selectAll()
            .where(
              "order_id",
              "in",
              shown.map((o) => o.id),
            )
            .orderBy("order_id")
            .orderBy("line_no")
            .execute();
    const linesOf = new Map<string, typeof lines>();
    for (const l of lines) {
      const group = linesOf.get(l.order_id);
      if (group) group.push(l);
      else linesOf.set(l.order_id, [l]);
    }
    const edges = shown.map((o) => ({
      cursor: encodeCursor(filter, { businessDay: o.business_day, createdAt: o.created_at_key, id: o.id }),
      node: {
        id: o.id,
        locationId: o.location_id,
        status: o.status,
        paymentMethod: o.payment_method,
        subtotalVnd: o.subtotal_vnd,
        discountVnd: o.discount_vnd,
        totalVnd: o.total_vnd,
        guests: o.guests,
        staffId: o.staff_id,
        businessDay: o.business_day,
        createdAt: o.created_at.toISOString(),
        paidAt: o.paid_at?.toISOString() ?? null,
        voidedAt: o.voided_at?.toISOString() ?? null,
        voidReason: o.void_reason,
        lines: (linesOf.get(o.id) ?? []).map((l) => ({
          itemId: l.item_id,
          name: l.name,
          quantity: l.quantity,
          unitPriceVnd: l.unit_price_vnd,
        })),
      } satisfies OrderView,
    }));
    return {
      edges,
      pageInfo: {
        hasNextPage,
        // Forward pagination only (first/after): a page after a cursor has one before it.
        hasPreviousPage: after !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      totalCount: count.n,
    };
  });
}
