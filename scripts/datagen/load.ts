// Loads a generated history through the edge's public GraphQL API (createOrder with the time
// the order was taken, then voidOrder where planned); never by writing a service's tables.
// Idempotency keys are part of the plan, so a reload after a failure creates nothing twice.
import type { GenLocation, PlannedOrder } from "./generate.js";

export type Gql = <T>(
  query: string,
  variables?: Record<string, unknown>,
) => Promise<{
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}>;

const LOCATION = /* GraphQL */ `
  query ($id: ID!) {
    location(id: $id) {
      id
      timeZone
      cutoverHour
      menu {
        id
        name
        category
        priceVnd
        available
      }
    }
  }
`;

const CREATE = /* GraphQL */ `
  mutation ($input: CreateOrderInput!) {
    createOrder(input: $input) {
      id
      totalVnd
    }
  }
`;

const VOID = /* GraphQL */ `
  mutation ($input: VoidOrderInput!) {
    voidOrder(input: $input) {
      id
      status
    }
  }
`;

/** A location with its settings and menu, as the generator needs it. */
export async function fetchGenLocation(gql: Gql, id: string): Promise<GenLocation> {
  const res = await gql<{ location: GenLocation | null }>(LOCATION, { id });
  if (!res.data?.location) throw new Error(`location ${id}: ${JSON.stringify(res.errors)}`);
  return res.data.location;
}

/** Sends the plan with `concurrency` requests in flight; returns each order's id and total. */
export async function loadHistory(
  gql: Gql,
  orders: PlannedOrder[],
  opts: { concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<Map<string, { id: string; totalVnd: number }>> {
  const created = new Map<string, { id: string; totalVnd: number }>();
  let next = 0;
  const worker = async () => {
    while (next < orders.length) {
      const o = orders[next++] as PlannedOrder;
      const res = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE, {
        input: {
          locationId: o.locationId,
          idempotencyKey: o.idempotencyKey,
          paymentMethod: o.paymentMethod,
          lines: o.lines,
          discountVnd: o.discountVnd,
          guests: o.guests,
          paid: o.paid,
          occurredAt: o.occurredAt,
        },
      });
      if (!res.data?.createOrder)
        throw new Error(`createOrder ${o.idempotencyKey}: ${JSON.stringify(res.errors)}`);
      created.set(o.idempotencyKey, res.data.createOrder);
      if (o.voided) {
        const v = await gql(VOID, {
          input: {
            orderId: res.data.createOrder.id,
            idempotencyKey: `${o.idempotencyKey}-void`,
            reason: "generated",
          },
        });
        if (v.errors?.length) throw new Error(`voidOrder ${o.idempotencyKey}: ${JSON.stringify(v.errors)}`);
      }
      if (created.size % 500 === 0) opts.onProgress?.(created.size);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return created;
}
