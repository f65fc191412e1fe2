import { sql, type Kysely, type Selectable, type Transaction } from "kysely";
import { Counter, Histogram } from "prom-client";
import { ZodError } from "zod";
import type { PaymentProvider } from "@lsp/contracts";
import { AppError, registry, type Logger } from "@lsp/runtime";
import { enqueueEvent, withTenant } from "@lsp/db";
import type { SidecarPorts } from "@lsp/dapr";
import {
  ADAPTERS,
  UnusableSignature,
  type Notice,
  type Outcome,
  type ProviderAdapter,
  type RawWebhook,
  type Reply,
} from "./adapters.js";
import { tenantCredentials } from "./credentials.js";
import { PROVIDER_FLAGS, providerEnabled, type FlagReader } from "./provider-flags.js";
import type { PaymentsDB } from "./db.js";
import { auditPayload, type WebhookGuard } from "./webhook-guard.js";

const webhooksTotal = new Counter({
  name: "payments_webhooks_total",
  help: "Provider webhooks by provider and outcome",
  labelNames: ["provider", "outcome"] as const,
  registers: [registry],
});
const webhookSeconds = new Histogram({
  name: "payments_webhook_duration_seconds",
  help: "Time from webhook received to reply, by provider",
  labelNames: ["provider"] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export interface WebhookDeps {
  db: Kysely<PaymentsDB>;
  ports: SidecarPorts;
  log: Logger;
  /** Feature flags (provider-flags.ts): a provider switched off for a restaurant. */
  flags: FlagReader;
}

/** Where a webhook came from, as the edge saw it, and the limits it is held to. */
export interface WebhookSource {
  /** The client address (`x-lsp-client-ip`), or "unknown". */
  address: string;
  guard: WebhookGuard;
}

export interface Decision {
  outcome: Outcome;
  detail: string;
  tenantId?: string;
  paymentId?: string;
}

/**
 * Checks and records one provider notice. Order of checks: parse → our reference → the tenant's
 * credentials → signature → amount → record once. Nothing but an audit row is written unless
 * every check passes; the payment row and its event commit together (outbox), and the provider
 * is answered once that commit is durable: sales marks the order paid, notifications tells the
 * owner and the dashboard counts it from the event, after the reply.
 */
async function decide<P extends PaymentProvider>(
  deps: WebhookDeps,
  adapter: ProviderAdapter<P>,
  raw: RawWebhook,
  source: WebhookSource,
): Promise<Decision & { notice?: Notice }> {
  let parsed;
  try {
    parsed = adapter.parse(raw);
  } catch (err) {
    if (err instanceof UnusableSignature) return { outcome: "invalid_signature", detail: err.message };
    const detail =
      err instanceof ZodError
        ? `malformed ${adapter.provider} notice: ${err.issues.map((i) => `${i.path.join(".") || "body"} ${i.message}`).join("; ")}`
        : `malformed ${adapter.provider} notice: body is not valid JSON`;
    return { outcome: "malformed", detail };
  }
  const { notice } = parsed;
  const provider = adapter.provider;
  if (!source.guard.admitMerchant(provider, parsed.merchantCode))
    return {
      notice,
      outcome: "rate_limited",
      detail: `too many notices for merchant ${parsed.merchantCode.slice(0, 50)}; retry later`,
    };

  // The tenant comes from the intent the reference points at, never from the payload. Intents
  // have row-level security: the owner-defined lookup maps the reference to its tenant and
  // nothing else (so a tenant here means the intent exists); the intent itself is read inside
  // that tenant's transaction, the one that records the payment.
  const route = await sql<{
    tenant_id: string | null;
  }>`SELECT payment_intent_tenant(${provider}, ${notice.reference}) AS tenant_id`.execute(deps.db);
  const tenantId = route.rows[0]?.tenant_id ?? null;
  if (!tenantId)
    return { notice, outcome: "unknown_order", detail: `no payment with reference ${notice.reference}` };

  const creds = await tenantCredentials(deps.ports, provider, tenantId);
  if (!creds || !parsed.verify(creds))
    return { notice, tenantId, outcome: "invalid_signature", detail: "signature does not match" };

  // Only a notice that verified learns whether the provider is on for its restaurant.
  if (PROVIDER_FLAGS[provider]) {
    const intent = await withTenant(deps.db, tenantId, (trx) =>
      trx
        .selectFrom("payment_intents")
        .select("location_id")
        .where("provider", "=", provider)
        .where("reference", "=", notice.reference)
        .executeTakeFirst(),
    );
    if (!providerEnabled(deps.flags, provider, { tenantId, locationId: intent?.location_id }))
      return {
        notice,
        tenantId,
        outcome: "provider_disabled",
        detail: `${provider} is not enabled for this restaurant`,
      };
  }

  return settleVerified(deps, { provider, raw, notice, tenantId });
}

type Intent = Selectable<PaymentsDB["payment_intents"]>;

/**
 * The part shared by webhooks and reconciliation, once the notice is known to come from the
 * provider: amount → record once (or the reason not to), in one transaction of the tenant. The
 * order is checked against what the intent recorded when the payment started (its total and
 * lines never change once created), not asked of sales: sales checks it again when it applies
 * payment.succeeded, and leaves an order that is no longer open as it is (a payment for an order
 * settled otherwise is a refund for a human). `intent` is given by reconciliation, which has it;
 * a webhook's is read by its reference.
 */
export async function settleVerified(
  deps: WebhookDeps,
  a: {
    provider: PaymentProvider;
    raw: RawWebhook;
    notice: Notice;
    tenantId: string;
    intent?: Intent;
  },
): Promise<Decision & { notice: Notice }> {
  const { notice, tenantId } = a;
  return withTenant(deps.db, tenantId, async (trx) => {
    const intent =
      a.intent ??
      (await trx
        .selectFrom("payment_intents")
        .selectAll()
        .where("provider", "=", a.provider)
        .where("reference", "=", notice.reference)
        .executeTakeFirst());
    if (!intent)
      return { notice, outcome: "unknown_order", detail: `no payment with reference ${notice.reference}` };
    if (notice.amountVnd !== intent.amount_vnd)
      return {
        notice,
        tenantId,
        outcome: "amount_mismatch",
        detail: `amount ${notice.amountVnd ?? "invalid"} does not match the order total ${intent.amount_vnd}`,
      };
    if (notice.outcome === "pending")
      return { notice, tenantId, outcome: "pending", detail: `pending (${notice.resultCode})` };
    return recordOnce(trx, { ...a, intent });
  });
}

/**
 * Inserts the payment, settles its intent and enqueues its event, once per (provider,
 * transaction id): a replay (or a concurrent duplicate, which waits on the unique indexes) inserts
 * nothing and is answered "duplicate"; a success for an order that already has one under another
 * transaction id inserts nothing either and is "already_paid".
 */
async function recordOnce(
  trx: Transaction<PaymentsDB>,
  a: {
    provider: PaymentProvider;
    raw: RawWebhook;
    notice: Notice;
    tenantId: string;
    intent: Intent;
  },
): Promise<Decision & { notice: Notice }> {
  const { provider, raw, notice, tenantId, intent } = a;
  const status = notice.outcome === "succeeded" ? "succeeded" : "failed";
  const inserted = await trx
    .insertInto("payments")
    .values({
      tenant_id: tenantId,
      location_id: intent.location_id,
      order_id: intent.order_id,
      intent_id: intent.id,
      provider,
      provider_txn_id: notice.providerTxnId,
      amount_vnd: intent.amount_vnd,
      status,
      raw_payload: JSON.stringify({ body: raw.body, query: raw.query }),
    })
    // No conflict target: DO NOTHING on either unique index (one row per provider transaction;
    // one success per order). With a target, a concurrent duplicate of the same success could
    // meet the order's index first and fail with a unique violation (CI's payment burst: a 409
    // for a duplicate notice); now it waits, then inserts nothing, and the row says which it was.
    .onConflict((c) => c.doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) {
    const same = await trx
      .selectFrom("payments")
      .select("id")
      .where("provider", "=", provider)
      .where("provider_txn_id", "=", notice.providerTxnId)
      .executeTakeFirst();
    return same
      ? { notice, tenantId, outcome: "duplicate", detail: "already processed" }
      : { notice, tenantId, outcome: "already_paid", detail: "the order already has a successful payment" };
  }

  const common = {
    paymentId: inserted.id,
    tenantId,
    locationId: intent.location_id,
    orderId: intent.order_id,
    provider,
    providerTransactionId: notice.providerTxnId,
    amountVnd: intent.amount_vnd,
    // The webhook's arrival (the start of webhook-to-screen latency), else now (reconciliation).
    occurredAt: (raw.receivedAt ?? new Date()).toISOString(),
  };
  // The attempt is over either way: reconciliation stops asking the provider about it.
  await trx
    .updateTable("payment_intents")
    .set({ settled_at: new Date() })
    .where("id", "=", intent.id)
    .execute();
  if (status === "succeeded") {
    await enqueueEvent(trx, "payment.succeeded", {
      ...common,
      // Intents started before migration 0005 have no items: notifications asks sales then.
      ...(intent.items ? { items: intent.items } : {}),
    });
  } else {
    await enqueueEvent(trx, "payment.failed", {
      ...common,
      resultCode: notice.resultCode.slice(0, 20),
      reason: notice.message.slice(0, 500),
    });
  }
  return { notice, tenantId, outcome: "accepted", detail: status, paymentId: inserted.id };
}

const AUDITED: ReadonlySet<Outcome> = new Set([
  "provider_disabled",
  "malformed",
  "invalid_signature",
  "unknown_order",
  "amount_mismatch",
  "already_paid",
  "pending",
  "unavailable",
]);

/**
 * Rejected before the notice could be trusted: anyone can send these at will, so they cost their
 * source extra rate and their audit rows are sampled per source. The others come from notices
 * whose signature verified (or from our side failing) and are always audited.
 */
const UNVERIFIED: ReadonlySet<Outcome> = new Set(["malformed", "invalid_signature", "unknown_order"]);

/** Handles one webhook end to end and returns the reply the provider expects. */
export async function handleWebhook(
  deps: WebhookDeps,
  provider: PaymentProvider,
  raw: RawWebhook,
  source: WebhookSource,
): Promise<Reply & { outcome: Outcome }> {
  const adapter = ADAPTERS[provider] as ProviderAdapter<PaymentProvider>;
  const end = webhookSeconds.startTimer({ provider });
  let decision: Decision & { notice?: Notice };
  if (!source.guard.admitSource(provider, source.address)) {
    // Refused before parsing or any lookup, and not audited: the metric counts these.
    decision = { outcome: "rate_limited", detail: "too many notices from this source; retry later" };
  } else {
    try {
      decision = await decide(deps, adapter, raw, source);
    } catch (err) {
      // Our side failed (sales, secret store or database unreachable): ask the provider to retry.
      const appError = err instanceof AppError ? err : undefined;
      deps.log.error({ err, provider }, "webhook handling failed");
      decision = { outcome: "unavailable", detail: appError?.message ?? "temporary failure" };
    }
  }
  const unverified = UNVERIFIED.has(decision.outcome);
  if (unverified) source.guard.penalize(source.address);
  if (AUDITED.has(decision.outcome) && (!unverified || source.guard.mayAudit(provider, source.address)))
    await writeAudit(deps, provider, raw, decision, source.address);
  webhooksTotal.inc({ provider, outcome: decision.outcome });
  end();
  deps.log.info(
    {
      provider,
      outcome: decision.outcome,
      detail: decision.detail,
      paymentId: decision.paymentId,
      source: source.address,
    },
    "webhook",
  );
  return { ...adapter.reply(decision.outcome, decision.detail), outcome: decision.outcome };
}

/** One bounded audit row: payload cut to 4 KiB (marked, original size kept), reason to 2,000. */
async function writeAudit(
  deps: WebhookDeps,
  provider: PaymentProvider,
  raw: RawWebhook,
  decision: Decision & { notice?: Notice },
  source: string,
): Promise<void> {
  const payload = auditPayload(provider === "vnpay" ? raw.query : raw.body);
  const row = {
    provider,
    outcome: decision.outcome,
    reason: `${decision.detail.slice(0, 1900)} (source ${source})`,
    tenant_id: decision.tenantId ?? null,
    reference: decision.notice?.reference.slice(0, 200) ?? null,
    provider_txn_id: decision.notice?.providerTxnId.slice(0, 100) ?? null,
    raw_payload: payload.text,
    raw_payload_bytes: payload.bytes,
  };
  // Row-level security: a tenant's audit row is written in its transaction; a row of an
  // unknown tenant outside any (see migration 0003).
  const { tenantId } = decision;
  await (
    tenantId
      ? withTenant(deps.db, tenantId, (trx) => trx.insertInto("webhook_audit").values(row).execute())
      : deps.db.insertInto("webhook_audit").values(row).execute()
  ).catch((err: unknown) => deps.log.error({ err }, "could not write the webhook audit record"));
}
