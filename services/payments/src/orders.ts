import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { invokeService, type SidecarPorts } from "@lsp/dapr";
import { systemHeaders } from "@lsp/identity";

/** The part of a sales order payments needs: what is owed, and whether it is still open. */
export const OrderSummary = z.object({
  id: z.uuid(),
  locationId: z.uuid(),
  status: z.enum(["open", "paid", "voided"]),
  totalVnd: z.number().int().nonnegative(),
  lines: z.array(z.object({ name: z.string(), quantity: z.number().int() })),
});
export type OrderSummary = z.infer<typeof OrderSummary>;

const ORDER_QUERY = /* GraphQL */ `
  query ($id: ID!) {
    order(id: $id) {
      id
      locationId
      status
      totalVnd
      lines {
        name
        quantity
      }
    }
  }
`;

const Answer = z.object({
  data: z.object({ order: OrderSummary.nullable() }).nullable().optional(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});

/**
 * Looks an order up in sales (its owner) through Dapr service invocation, scoped to one tenant:
 * sales enforces the tenant with row-level security, so another tenant's order is simply absent.
 * As payments itself (a system caller of sales) unless `caller` forwards a user (their own token),
 * in which case sales also applies that user's branch scope.
 */
export async function fetchOrder(
  ports: SidecarPorts,
  tenantId: string,
  orderId: string,
  caller: Record<string, string> = systemHeaders(tenantId),
): Promise<OrderSummary | null> {
  const res = await invokeService(ports, "sales", "graphql", {
    body: JSON.stringify({ query: ORDER_QUERY, variables: { id: orderId } }),
    headers: caller,
    timeoutMs: 3000,
  });
  if (!res.ok) throw new AppError("UNAVAILABLE", `sales answered ${res.status}`);
  const answer = Answer.parse(await res.json());
  if (answer.errors?.length && !answer.data?.order) {
    throw new AppError("UNAVAILABLE", `sales: ${answer.errors[0]?.message ?? "error"}`);
  }
  return answer.data?.order ?? null;
}

/** The lines payment.succeeded carries (the contract's bounds: at most 100, named, positive quantities). */
export function paymentItems(lines: OrderSummary["lines"]): { name: string; quantity: number }[] {
  return lines
    .filter((l) => l.quantity > 0 && l.name.length > 0)
    .slice(0, 100)
    .map((l) => ({ name: l.name.slice(0, 200), quantity: l.quantity }));
}
