import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { PaymentProvider } from "@lsp/contracts";
import { AppError } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import type { SidecarPorts } from "@lsp/dapr";
import { tenantCredentials } from "./credentials.js";
import type { PaymentsDB } from "./db.js";
import { fetchOrder, paymentItems } from "./orders.js";
import { MOMO_CREATE_PATH, buildMomoCreateRequest, momoRequestId } from "./providers/momo.js";
import { PROVIDER_FLAGS, providerEnabled, type FlagReader } from "./provider-flags.js";
import { VNPAY_PAY_PATH, buildVnpayPaymentUrl } from "./providers/vnpay.js";
import { ZALOPAY_CREATE_PATH, buildZaloPayCreateRequest, zaloPayAppTransId } from "./providers/zalopay.js";

export interface ProviderEndpoints {
  MOMO_ENDPOINT: string;
  ZALOPAY_ENDPOINT: string;
  VNPAY_ENDPOINT: string;
  /** Where providers reach our edge: `<PUBLIC_URL>/api/v1/webhooks/<provider>`. */
  PUBLIC_URL: string;
}

export interface PaymentRequest {
  provider: PaymentProvider;
  reference: string;
  method: "POST" | "GET";
  url: string;
  /** JSON body for POST requests. */
  body: string | null;
}

/** Our reference for one attempt; fresh per attempt because providers refuse a repeated one. */
export function newReference(provider: PaymentProvider, at: Date): string {
  const random = randomBytes(10).toString("hex");
  if (provider === "zalopay") return zaloPayAppTransId(at, `lsp${random}`);
  return provider === "momo" ? `LSP-${random}` : `LSP${random}`;
}

/**
 * Starts a payment of an open order: records the reference (so the webhook can find the order
 * and its tenant) and returns the signed request the client sends to the provider.
 */
export async function startPayment(
  deps: {
    db: Kysely<PaymentsDB>;
    ports: SidecarPorts;
    endpoints: ProviderEndpoints;
    /** The caller's forwarding headers: sales checks the order against the user's own scope. */
    forward: () => Record<string, string>;
    /** Feature flags (provider-flags.ts): a provider switched off for a restaurant is refused. */
    flags: FlagReader;
  },
  who: Identity,
  input: { orderId: string; provider: PaymentProvider; clientIp?: string },
  now = new Date(),
): Promise<PaymentRequest> {
  const { db, ports, endpoints } = deps;
  const order = await fetchOrder(ports, who.tenantId, input.orderId, deps.forward());
  if (!order) throw new AppError("NOT_FOUND", `order ${input.orderId} not found`);
  if (order.status !== "open") throw new AppError("CONFLICT", `order is ${order.status}`);
  if (!providerEnabled(deps.flags, input.provider, { tenantId: who.tenantId, locationId: order.locationId }))
    throw new AppError("FEATURE_DISABLED", `${input.provider} is not enabled for this restaurant`, {
      field: "provider",
      flag: PROVIDER_FLAGS[input.provider],
    });
  const creds = await tenantCredentials(ports, input.provider, who.tenantId);
  if (!creds) throw new AppError("BAD_USER_INPUT", `${input.provider} is not configured for this tenant`);

  const reference = newReference(input.provider, now);
  await withTenant(db, who.tenantId, (trx) =>
    trx
      .insertInto("payment_intents")
      .values({
        provider: input.provider,
        reference,
        tenant_id: who.tenantId,
        location_id: order.locationId,
        order_id: order.id,
        amount_vnd: order.totalVnd,
        // What payment.succeeded tells the owner, so that the webhook need not ask sales.
        items: JSON.stringify(paymentItems(order.lines)),
      })
      .execute(),
  );

  const webhook = `${endpoints.PUBLIC_URL.replace(/\/$/, "")}/api/v1/webhooks/${input.provider}`;
  const info = `Thanh toan don ${reference}`;
  const common = { provider: input.provider, reference };
  if (input.provider === "momo") {
    const c = creds as Parameters<typeof buildMomoCreateRequest>[0];
    const body = buildMomoCreateRequest(c, {
      orderId: reference,
      requestId: momoRequestId(reference, now),
      amount: order.totalVnd,
      orderInfo: info,
      redirectUrl: `${endpoints.PUBLIC_URL}/payments/return`,
      ipnUrl: webhook,
    });
    return {
      ...common,
      method: "POST",
      url: `${endpoints.MOMO_ENDPOINT}${MOMO_CREATE_PATH}`,
      body: JSON.stringify(body),
    };
  }
  if (input.provider === "zalopay") {
    const c = creds as Parameters<typeof buildZaloPayCreateRequest>[0];
    const body = buildZaloPayCreateRequest(c, {
      appTransId: reference,
      appUser: who.userId ?? who.tenantId,
      amount: order.totalVnd,
      appTime: now.getTime(),
      description: info,
      callbackUrl: webhook,
      item: JSON.stringify(order.lines.map((l) => ({ itemname: l.name, itemquantity: l.quantity }))),
    });
    return {
      ...common,
      method: "POST",
      url: `${endpoints.ZALOPAY_ENDPOINT}${ZALOPAY_CREATE_PATH}`,
      body: JSON.stringify(body),
    };
  }
  const c = creds as Parameters<typeof buildVnpayPaymentUrl>[0];
  const url = buildVnpayPaymentUrl(c, `${endpoints.VNPAY_ENDPOINT}${VNPAY_PAY_PATH}`, {
    txnRef: reference,
    amountVnd: order.totalVnd,
    orderInfo: info,
    returnUrl: `${endpoints.PUBLIC_URL}/payments/return`,
    ipAddr: input.clientIp ?? "127.0.0.1",
    at: now,
  });
  return { ...common, method: "GET", url, body: null };
}
