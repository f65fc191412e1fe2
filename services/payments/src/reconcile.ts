import { sql, type Selectable } from "kysely";
import { Counter } from "prom-client";
import type { PaymentProvider } from "@lsp/contracts";
import { invokeBinding } from "@lsp/dapr";
import { registry } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { Notice } from "./adapters.js";
import { tenantCredentials, type CredentialsOf } from "./credentials.js";
import type { PaymentsDB } from "./db.js";
import {
  MOMO_QUERY_PATH,
  MomoQueryResponse,
  buildMomoQueryRequest,
  momoOutcome,
  momoRequestId,
} from "./providers/momo.js";
import {
  VNPAY_QUERY_PATH,
  VnpayQueryResponse,
  buildVnpayQueryRequest,
  vnpayAmountVnd,
} from "./providers/vnpay.js";
import { ZALOPAY_QUERY_PATH, ZaloPayQueryResponse, buildZaloPayQueryRequest } from "./providers/zalopay.js";
import { settleVerified, type WebhookDeps } from "./webhooks.js";

/** The Dapr output bindings in front of each provider's transaction-status API. */
export const QUERY_BINDINGS = { momo: "momo-query", zalopay: "zalopay-query", vnpay: "vnpay-query" } as const;

/** ZaloPay answers status queries for 48 h only; older attempts are left alone. */
const MAX_AGE_MS = 48 * 3600_000;

const reconciledTotal = new Counter({
  name: "payments_reconciled_total",
  help: "Unsettled payment attempts checked against the provider, by provider and outcome",
  labelNames: ["provider", "outcome"] as const,
  registers: [registry],
});

type Intent = Selectable<PaymentsDB["payment_intents"]>;

async function callBinding(
  deps: WebhookDeps,
  provider: PaymentProvider,
  path: string,
  body: unknown,
): Promise<string> {
  const res = await invokeBinding(deps.ports, QUERY_BINDINGS[provider], {
    operation: "post",
    data: body,
    metadata: { path, "Content-Type": "application/json" },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${QUERY_BINDINGS[provider]} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Asks the provider what became of one attempt; a notice only when it reports it paid. */
async function queryProvider(
  deps: WebhookDeps,
  intent: Intent,
  now: Date,
): Promise<{ notice: Notice; raw: string } | null> {
  const creds = await tenantCredentials(deps.ports, intent.provider, intent.tenant_id);
  if (!creds) return null;
  const ref = intent.reference;
  if (intent.provider === "momo") {
    const c = creds as CredentialsOf<"momo">;
    const raw = await callBinding(
      deps,
      "momo",
      MOMO_QUERY_PATH,
      buildMomoQueryRequest(c, ref, momoRequestId(ref, now)),
    );
    const r = MomoQueryResponse.parse(JSON.parse(raw));
    if (r.orderId !== ref || momoOutcome(r.resultCode) !== "succeeded") return null;
    return {
      raw,
      notice: {
        reference: ref,
        providerTxnId: String(r.transId),
        amountVnd: r.amount,
        outcome: "succeeded",
        resultCode: String(r.resultCode),
        message: r.message,
      },
    };
  }
  if (intent.provider === "zalopay") {
    const c = creds as CredentialsOf<"zalopay">;
    const raw = await callBinding(deps, "zalopay", ZALOPAY_QUERY_PATH, buildZaloPayQueryRequest(c, ref));
    const r = ZaloPayQueryResponse.parse(JSON.parse(raw));
    if (r.return_code !== 1 || r.zp_trans_id === undefined || r.amount === undefined) return null;
    return {
      raw,
      notice: {
        reference: ref,
        providerTxnId: String(r.zp_trans_id),
        amountVnd: r.amount,
        outcome: "succeeded",
        resultCode: "1",
        message: "paid (query)",
      },
    };
  }
  const c = creds as CredentialsOf<"vnpay">;
  const body = buildVnpayQueryRequest(c, {
    requestId: `${ref}${now.getTime()}`.slice(0, 32),
    txnRef: ref,
    transactionDate: intent.created_at,
    at: now,
    ipAddr: "127.0.0.1",
  });
  const raw = await callBinding(deps, "vnpay", VNPAY_QUERY_PATH, body);
  const r = VnpayQueryResponse.parse(JSON.parse(raw));
  if (
    r.vnp_ResponseCode !== "00" ||
    r.vnp_TransactionStatus !== "00" ||
    !r.vnp_TransactionNo ||
    !r.vnp_Amount
  )
    return null;
  return {
    raw,
    notice: {
      reference: ref,
      providerTxnId: r.vnp_TransactionNo,
      amountVnd: vnpayAmountVnd(r.vnp_Amount),
      outcome: "succeeded",
      resultCode: "00/00",
      message: "paid (querydr)",
    },
  };
}

export interface ReconcileReport {
  checked: number;
  settled: number;
}

/**
 * Reconciliation for missed callbacks: every attempt still unsettled after `minAgeMs` (and within
 * the providers' query window) is looked up through the provider's query API; a payment the
 * provider reports is recorded exactly as its webhook would have been (same checks, same
 * idempotency key, same event). Optionally limited to one tenant.
 */
export async function reconcile(
  deps: WebhookDeps,
  opts: { minAgeMs: number; tenantId?: string; now?: Date },
): Promise<ReconcileReport> {
  const now = opts.now ?? new Date();
  const createdBefore = new Date(now.getTime() - opts.minAgeMs);
  const createdAfter = new Date(now.getTime() - MAX_AGE_MS);
  // Intents have row-level security: the owner-defined lookup names the tenants with unsettled
  // attempts (tenant ids only); each tenant's intents are read in its own transaction.
  const tenants = opts.tenantId
    ? [opts.tenantId]
    : (
        await sql<{
          tenant_id: string;
        }>`SELECT tenant_id FROM unsettled_intent_tenants(${createdBefore}, ${createdAfter}) AS tenant_id`.execute(
          deps.db,
        )
      ).rows.map((r) => r.tenant_id);
  const found: Intent[] = [];
  for (const tenantId of tenants)
    found.push(
      ...(await withTenant(deps.db, tenantId, (trx) =>
        trx
          .selectFrom("payment_intents")
          .selectAll()
          .where("settled_at", "is", null)
          .where("created_at", "<=", createdBefore)
          .where("created_at", ">", createdAfter)
          .orderBy("created_at")
          .limit(200)
          .execute(),
      )),
    );
  const intents = found.sort((a, b) => a.created_at.getTime() - b.created_at.getTime()).slice(0, 200);
  let settled = 0;
  for (const intent of intents) {
    let outcome = "not_paid";
    try {
      const found = await queryProvider(deps, intent, now);
      if (found) {
        const decision = await settleVerified(deps, {
          provider: intent.provider,
          raw: { body: found.raw, query: "" },
          notice: found.notice,
          tenantId: intent.tenant_id,
          intent,
        });
        outcome = decision.outcome;
        if (decision.outcome === "accepted") settled++;
      }
    } catch (err) {
      outcome = "error";
      deps.log.warn(
        { err, provider: intent.provider, reference: intent.reference },
        "reconciliation query failed",
      );
    }
    reconciledTotal.inc({ provider: intent.provider, outcome });
  }
  if (intents.length) deps.log.info({ checked: intents.length, settled }, "reconciliation run");
  return { checked: intents.length, settled };
}
