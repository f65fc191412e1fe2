import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { eventually, type GraphQLResponse } from "./graphql-client.js";

type Gql = <T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
) => Promise<GraphQLResponse<T>>;

const FENCE_ORDER = /* GraphQL */ `
  mutation ($input: CreateOrderInput!) {
    createOrder(input: $input) {
      id
      totalVnd
      createdAt
    }
  }
`;

/** What a fence order is: one unpaid cash order of one item, so its own effect on the figures is known. */
export interface Fence {
  orderId: string;
  totalVnd: number;
  createdAt: string;
}

/**
 * A "nothing else happens" check cannot wait a fixed time: on a loaded machine a late event passes
 * such a check while the bug exists. Instead it sends a fence — one more order at the same location,
 * through the same outbox, topic and consumer as anything the thing under test could have caused —
 * and waits until the dashboard has counted it. Whatever was in flight before the fence has been
 * applied by then, so the caller asserts the figures equal the state before plus the fence alone.
 *
 * `read` returns the location's figures; `counted` says whether they include the fence given the
 * figures before it (normally: one more order).
 */
export async function sendFence<T>(
  gql: Gql,
  at: { locationId: string; itemId: string },
  read: () => Promise<T>,
  counted: (now: T) => boolean,
): Promise<{ fence: Fence; figures: T }> {
  const res = await gql<{ createOrder: Fence & { id: string } }>(FENCE_ORDER, {
    input: {
      locationId: at.locationId,
      idempotencyKey: randomUUID(),
      paymentMethod: "cash",
      lines: [{ itemId: at.itemId, quantity: 1 }],
    },
  });
  assert.ok(res.data?.createOrder, `fence order refused: ${JSON.stringify(res.errors)}`);
  const { id, totalVnd, createdAt } = res.data.createOrder;
  const fence = { orderId: id, totalVnd, createdAt };
  const figures = await eventually("the fence order is counted", async () => {
    const now = await read();
    return counted(now) ? now : undefined;
  });
  return { fence, figures };
}
