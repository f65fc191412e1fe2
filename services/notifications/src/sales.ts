import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { invokeService, type SidecarPorts } from "@lsp/dapr";
import { systemHeaders } from "@lsp/identity";

const Answer = z.object({
  data: z
    .object({
      order: z
        .object({ lines: z.array(z.object({ name: z.string(), quantity: z.number().int() })) })
        .nullable(),
    })
    .nullable()
    .optional(),
});

/** The items of an order, from sales through Dapr service invocation (for the payment template). */
export async function fetchOrderItems(
  ports: SidecarPorts,
  tenantId: string,
  orderId: string,
): Promise<{ name: string; quantity: number }[]> {
  const res = await invokeService(ports, "sales", "graphql", {
    body: JSON.stringify({
      query: "query ($id: ID!) { order(id: $id) { lines { name quantity } } }",
      variables: { id: orderId },
    }),
    headers: systemHeaders(tenantId),
    timeoutMs: 3000,
  });
  if (!res.ok) throw new AppError("UNAVAILABLE", `sales answered ${res.status}`);
  return Answer.parse(await res.json()).data?.order?.lines ?? [];
}
