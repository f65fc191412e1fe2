import type { ColumnType, Generated } from "kysely";
import type { PaymentProvider } from "@lsp/contracts";
import type { OutboxTable } from "@lsp/db";

/** One line of the order a payment is for, as payment.succeeded carries it. */
export interface IntentItem {
  name: string;
  quantity: number;
}

export interface PaymentsDB extends OutboxTable {
  payments: {
    id: Generated<string>;
    tenant_id: string;
    location_id: string | null;
    order_id: string;
    intent_id: string | null;
    provider: PaymentProvider;
    provider_txn_id: string;
    amount_vnd: number;
    status: "succeeded" | "failed";
    /** `{ body, contentType }`: the request exactly as the provider sent it. */
    raw_payload: ColumnType<unknown, string, string>;
    created_at: Generated<Date>;
  };
  payment_intents: {
    id: Generated<string>;
    provider: PaymentProvider;
    reference: string;
    tenant_id: string;
    location_id: string;
    order_id: string;
    amount_vnd: number;
    /** The order's lines when the payment started (`[{name, quantity}]`), for payment.succeeded; NULL before migration 0005. */
    items: ColumnType<IntentItem[] | null, string | null, string | null>;
    created_at: Generated<Date>;
    settled_at: Date | null;
  };
  webhook_audit: {
    id: Generated<string>;
    provider: string;
    outcome: string;
    reason: string;
    tenant_id: string | null;
    reference: string | null;
    provider_txn_id: string | null;
    /** At most 4 KiB of what the provider sent (webhook-guard.ts: auditPayload). */
    raw_payload: string;
    /** The payload's size as received; larger than the stored text when it was cut. */
    raw_payload_bytes: number | null;
    created_at: Generated<Date>;
  };
}
