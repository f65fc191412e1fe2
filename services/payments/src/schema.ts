import type { Kysely } from "kysely";
import { z } from "zod";
import { PaymentProvider } from "@lsp/contracts";
import { AppError, type Logger } from "@lsp/runtime";
import { withScope, withTenant } from "@lsp/db";
import { VndScalar } from "@lsp/graphql";
import type { Identity } from "@lsp/identity";
import type { SidecarPorts } from "@lsp/dapr";
import type { PaymentsDB } from "./db.js";
import type { FlagReader } from "./provider-flags.js";
import { startPayment, type ProviderEndpoints } from "./intents.js";
import { reconcile } from "./reconcile.js";

export const typeDefs = /* GraphQL */ `
  "Amount in VND: an exact integer up to 2^53 − 1, as a JSON number (@lsp/graphql's VndScalar)."
  scalar Vnd

  enum PaymentProvider {
    momo
    zalopay
    vnpay
  }

  "The signed request a client sends to the provider to start paying."
  type PaymentRequest {
    provider: PaymentProvider!
    "Our reference for this attempt (MoMo orderId, ZaloPay app_trans_id, VNPay vnp_TxnRef)."
    reference: String!
    method: String!
    url: String!
    "JSON body when method is POST."
    body: String
  }

  type Payment {
    id: ID!
    orderId: ID!
    provider: PaymentProvider!
    providerTransactionId: String!
    "Amount in VND."
    amountVnd: Vnd!
    status: String!
    createdAt: String!
  }

  type Order @key(selectionSet: "{ id }") {
    id: ID!
    "The successful payment that settled this order, if any."
    payment: Payment
  }

  "A provider notice we did not accept (or that needs a look), with what the provider sent."
  type WebhookAuditEntry {
    id: ID!
    provider: PaymentProvider!
    "malformed, invalid_signature, unknown_order, amount_mismatch, already_paid, pending or unavailable"
    outcome: String!
    reason: String!
    reference: String
    providerTransactionId: String
    "What the provider sent, at most 4 KiB; a longer payload ends with a truncation marker."
    rawPayload: String!
    "The payload's size as received (null for rows older than the limit)."
    rawPayloadBytes: Int
    createdAt: String!
  }

  type Query {
    payments(orderId: ID!): [Payment!]!
    "Owners: recent rejected or unusual webhooks for this tenant's references, newest first."
    paymentWebhookAudit(first: Int = 50): [WebhookAuditEntry!]!
    _paymentsOrders(ids: [ID!]!): [Order]! @merge(keyField: "id")
  }

  type ReconcileReport {
    "Unsettled attempts looked up at their provider."
    checked: Int!
    "Of those, payments the provider reported and we recorded now."
    settled: Int!
  }

  type Mutation {
    startPayment(orderId: ID!, provider: PaymentProvider!): PaymentRequest!
    "Owners: asks the providers now about this tenant's unsettled attempts (missed callbacks)."
    reconcilePayments(olderThanSeconds: Int = 60): ReconcileReport!
  }
`;

export interface PaymentsContext {
  db: Kysely<PaymentsDB>;
  ports: SidecarPorts;
  log: Logger;
  endpoints: ProviderEndpoints;
  identity: () => Identity;
  /** Headers that carry the same caller to another service (the user's own token). */
  forward: () => Record<string, string>;
  /** Feature flags, live (provider-flags.ts). */
  flags: FlagReader;
}

interface PaymentRow {
  id: string;
  order_id: string;
  provider: string;
  provider_txn_id: string;
  amount_vnd: number;
  status: string;
  created_at: Date;
}
const toPayment = (p: PaymentRow) => ({
  id: p.id,
  orderId: p.order_id,
  provider: p.provider,
  providerTransactionId: p.provider_txn_id,
  amountVnd: p.amount_vnd,
  status: p.status,
  createdAt: p.created_at.toISOString(),
});

/** Never a real location: stands for "none" in a NOT IN list that must not be empty. */
const NO_LOCATION = "00000000-0000-0000-0000-000000000000";

const columns = [
  "id",
  "order_id",
  "provider",
  "provider_txn_id",
  "amount_vnd",
  "status",
  "created_at",
] as const;

export const resolvers = {
  Vnd: VndScalar,
  Query: {
    paymentWebhookAudit: async (_: unknown, args: { first?: number }, ctx: PaymentsContext) => {
      const who = ctx.identity();
      if (who.role !== "owner" && who.role !== "system") throw new AppError("FORBIDDEN", "owners only");
      const first = z
        .number()
        .int()
        .min(1)
        .max(200)
        .parse(args.first ?? 50);
      // Row-level security keeps the tenant's rows only; rows of an unknown tenant stay out.
      const rows = await withTenant(ctx.db, who.tenantId, (trx) =>
        trx
          .selectFrom("webhook_audit")
          .selectAll()
          .where("tenant_id", "=", who.tenantId)
          .orderBy("created_at", "desc")
          .limit(first)
          .execute(),
      );
      return rows.map((r) => ({
        id: r.id,
        provider: r.provider,
        outcome: r.outcome,
        reason: r.reason,
        reference: r.reference,
        providerTransactionId: r.provider_txn_id,
        rawPayload: r.raw_payload,
        rawPayloadBytes: r.raw_payload_bytes,
        createdAt: r.created_at.toISOString(),
      }));
    },
    payments: async (_: unknown, args: { orderId: string }, ctx: PaymentsContext) => {
      const orderId = z.uuid().parse(args.orderId);
      const who = ctx.identity();
      return withScope(ctx.db, who, async (trx) => {
        // A caller limited to some branches asking about another branch's order gets a typed
        // refusal, not an empty list: the order's branch is on its payment attempts (intents
        // carry no location policy), the payments themselves only through the policy below.
        if (who.locationIds !== undefined) {
          const foreign = await trx
            .selectFrom("payment_intents")
            .select("location_id")
            .where("order_id", "=", orderId)
            .where("location_id", "not in", who.locationIds.length ? who.locationIds : [NO_LOCATION])
            .executeTakeFirst();
          if (foreign) throw new AppError("FORBIDDEN", "this order belongs to a branch outside your scope");
        }
        // Row-level security (tenant, and the caller's branches: migration 0004) decides what is seen.
        const rows = await trx
          .selectFrom("payments")
          .select(columns)
          .where("order_id", "=", orderId)
          .orderBy("created_at")
          .execute();
        return rows.map(toPayment);
      });
    },
    // One query for every order of a stitched result (no N+1).
    _paymentsOrders: async (_: unknown, args: { ids: string[] }, ctx: PaymentsContext) => {
      const ids = z.array(z.uuid()).max(500).parse(args.ids);
      if (ids.length === 0) return [];
      // Scoped like `payments`: an order of another branch merges as "no payment".
      const rows = await withScope(ctx.db, ctx.identity(), (trx) =>
        trx
          .selectFrom("payments")
          .select(columns)
          .where("order_id", "in", ids)
          .where("status", "=", "succeeded")
          .execute(),
      );
      const byOrder = new Map(rows.map((r) => [r.order_id, toPayment(r)]));
      return ids.map((id) => ({ id, payment: byOrder.get(id) ?? null }));
    },
  },
  Mutation: {
    reconcilePayments: async (_: unknown, args: { olderThanSeconds?: number }, ctx: PaymentsContext) => {
      const who = ctx.identity();
      if (who.role !== "owner" && who.role !== "system") throw new AppError("FORBIDDEN", "owners only");
      const seconds = z
        .number()
        .int()
        .min(0)
        .max(86_400)
        .parse(args.olderThanSeconds ?? 60);
      return reconcile(ctx, { minAgeMs: seconds * 1000, tenantId: who.tenantId });
    },
    startPayment: async (_: unknown, args: { orderId: string; provider: string }, ctx: PaymentsContext) => {
      const input = { orderId: z.uuid().parse(args.orderId), provider: PaymentProvider.parse(args.provider) };
      return startPayment(ctx, ctx.identity(), input);
    },
  },
};
