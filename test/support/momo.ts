import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { merchantSecrets } from "../../scripts/mesh/dev-secrets.js";
import type { MomoCredentials } from "../../services/payments/src/providers/momo.js";
import { momoIpn, tenantId } from "./payments.js";
import { CREATE_ORDER, DEMO, type edgeClient } from "./graphql-client.js";

/** An open MoMo order of Phở Bò Hoàn Kiếm with its started payment (what a POS does first). */
export async function openMomoOrder(
  gql: ReturnType<typeof edgeClient>,
): Promise<{ order: { id: string; totalVnd: number }; reference: string }> {
  const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
    input: {
      locationId: DEMO.phoBo.hoanKiem,
      idempotencyKey: randomUUID(),
      paymentMethod: "momo",
      lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
    },
  });
  if (!created.data?.createOrder) throw new Error(`createOrder: ${JSON.stringify(created.errors)}`);
  const order = created.data.createOrder;
  const started = await gql<{ startPayment: { reference: string } }>(
    `mutation StartPayment($orderId: ID!) { startPayment(orderId: $orderId, provider: momo) { reference } }`,
    { orderId: order.id },
  );
  if (!started.data?.startPayment) throw new Error(`startPayment: ${JSON.stringify(started.errors)}`);
  return { order, reference: started.data.startPayment.reference };
}

/** Phở Bò's DEV ONLY MoMo merchant credentials in a mesh's secret store. */
export function momoCredentials(_mesh?: Mesh): MomoCredentials {
  const stored = merchantSecrets()[`payments-momo-${tenantId(DEMO.phoBo.slug)}`];
  if (!stored) throw new Error(`no MoMo credentials for ${DEMO.phoBo.slug} in the mesh's secrets`);
  return JSON.parse(stored) as MomoCredentials;
}

/** MoMo's signed IPN for that payment, posted to the edge's webhook route (the provider's side). */
export async function postMomoIpn(
  mesh: Mesh,
  payment: { order: { totalVnd: number }; reference: string },
  opts: { traceparent?: string; badSignature?: boolean; transId?: number } = {},
): Promise<Response> {
  // MoMo resends the same notice (same transId) until it is answered: pass it to do the same.
  const ipn = momoIpn(
    momoCredentials(mesh),
    payment.reference,
    payment.order.totalVnd,
    opts.transId ?? Date.now(),
  );
  if (opts.badSignature) ipn.signature = ipn.signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
  return fetch(`http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks/momo`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.traceparent ? { traceparent: opts.traceparent } : {}),
    },
    body: JSON.stringify(ipn),
  });
}
