import type { PaymentProvider } from "@lsp/contracts";
import type { CredentialsOf } from "./credentials.js";
import { MomoIpn, momoOutcome, verifyMomoIpn } from "./providers/momo.js";
import {
  VNPAY_RSP,
  VNPAY_SECURE_HASH,
  VnpayIpn,
  parseVnpayQuery,
  verifyVnpayIpn,
  vnpayAmountVnd,
  vnpayOutcome,
} from "./providers/vnpay.js";
import {
  ZALOPAY_RETURN,
  ZaloPayCallback,
  ZaloPayCallbackData,
  verifyZaloPayCallback,
} from "./providers/zalopay.js";

/** What a webhook says, in provider-neutral terms (before anything about it is trusted). */
export interface Notice {
  /** Our reference for the payment attempt, as we gave it to the provider. */
  reference: string;
  providerTxnId: string;
  /** VND; null when the provider's figure is not a whole number of đồng. */
  amountVnd: number | null;
  outcome: "succeeded" | "failed" | "pending";
  resultCode: string;
  message: string;
}

/** How handling a webhook ended; each provider has its own way to say it. */
export type Outcome =
  | "accepted"
  | "duplicate"
  | "already_paid"
  | "pending"
  | "malformed"
  | "invalid_signature"
  | "unknown_order"
  | "amount_mismatch"
  | "unavailable"
  /** Refused before any work: the source (or the merchant code) is over its rate (webhook-guard.ts). */
  | "rate_limited"
  /** Verified, but the provider is switched off for this restaurant (feature flag, provider-flags.ts). */
  | "provider_disabled";

/**
 * Thrown by `parse` when the request's signature field itself is unusable (e.g. a VNPay
 * vnp_SecureHash that is not 128 hex digits): that is a checksum failure, not a malformed notice,
 * and it is answered as a bad signature without any lookup.
 */
export class UnusableSignature extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnusableSignature";
  }
}

export interface Reply {
  status: number;
  body?: unknown;
}

/** The raw request as the edge forwarded it. */
export interface RawWebhook {
  body: string;
  query: string;
  /** When the webhook reached payments; absent for what reconciliation asked the provider. */
  receivedAt?: Date;
}

export interface ParsedWebhook<P extends PaymentProvider> {
  notice: Notice;
  /** The provider's merchant code the request claims (not trusted yet): a rate-limit key. */
  merchantCode: string;
  verify: (creds: CredentialsOf<P>) => boolean;
}

export interface ProviderAdapter<P extends PaymentProvider> {
  provider: P;
  /** Parses the request; throws (zod) when it is malformed. Nothing is trusted yet. */
  parse: (raw: RawWebhook) => ParsedWebhook<P>;
  reply: (outcome: Outcome, detail: string) => Reply;
}

const restError = (status: number, code: string, message: string): Reply => ({
  status,
  body: { error: { code, message } },
});

/** MoMo only needs 204 for a notice it accepted; anything else is our typed REST error. */
export const momo: ProviderAdapter<"momo"> = {
  provider: "momo",
  parse(raw) {
    const ipn = MomoIpn.parse(JSON.parse(raw.body));
    return {
      notice: {
        reference: ipn.orderId,
        providerTxnId: String(ipn.transId),
        amountVnd: ipn.amount,
        outcome: momoOutcome(ipn.resultCode),
        resultCode: String(ipn.resultCode),
        message: ipn.message,
      },
      merchantCode: ipn.partnerCode,
      verify: (creds) => verifyMomoIpn(creds, ipn),
    };
  },
  reply(outcome, detail) {
    switch (outcome) {
      case "accepted":
      case "duplicate":
      case "pending":
        return { status: 204 };
      case "already_paid":
        return restError(409, "CONFLICT", detail);
      case "malformed":
      case "amount_mismatch":
        return restError(400, "BAD_USER_INPUT", detail);
      case "invalid_signature":
        return restError(401, "UNAUTHENTICATED", detail);
      case "unknown_order":
        return restError(404, "NOT_FOUND", detail);
      case "unavailable":
        return restError(503, "UNAVAILABLE", detail);
      case "rate_limited":
        return restError(429, "RATE_LIMITED", detail);
      case "provider_disabled":
        return restError(403, "FEATURE_DISABLED", detail);
    }
  },
};

export const zalopay: ProviderAdapter<"zalopay"> = {
  provider: "zalopay",
  parse(raw) {
    const callback = ZaloPayCallback.parse(JSON.parse(raw.body));
    const data = ZaloPayCallbackData.parse(JSON.parse(callback.data));
    return {
      notice: {
        reference: data.app_trans_id,
        providerTxnId: String(data.zp_trans_id),
        amountVnd: data.amount,
        // ZaloPay calls back only once it has collected the money.
        outcome: "succeeded",
        resultCode: "1",
        message: "paid",
      },
      merchantCode: String(data.app_id),
      verify: (creds) => creds.appId === data.app_id && verifyZaloPayCallback(creds, callback),
    };
  },
  reply(outcome, detail) {
    switch (outcome) {
      case "accepted":
      case "pending":
        return { status: 200, body: ZALOPAY_RETURN.success };
      case "duplicate":
      case "already_paid":
        return { status: 200, body: ZALOPAY_RETURN.duplicate };
      case "invalid_signature":
        return { status: 200, body: ZALOPAY_RETURN.invalidMac };
      case "unknown_order":
      case "amount_mismatch":
      case "provider_disabled":
        return { status: 200, body: ZALOPAY_RETURN.rejected(detail) };
      case "unavailable":
        return { status: 200, body: ZALOPAY_RETURN.retryLater };
      case "rate_limited":
        // return_code 0: ZaloPay calls back again later.
        return {
          status: 429,
          body: { ...ZALOPAY_RETURN.retryLater, error: { code: "RATE_LIMITED", message: detail } },
        };
      case "malformed":
        return {
          status: 400,
          body: { ...ZALOPAY_RETURN.rejected(detail), error: { code: "BAD_USER_INPUT", message: detail } },
        };
    }
  },
};

export const vnpay: ProviderAdapter<"vnpay"> = {
  provider: "vnpay",
  parse(raw) {
    const params = parseVnpayQuery(raw.query);
    // VNPay checks the checksum first (its demo IPN): a hash that is there but cannot be a
    // SHA-512 hex digest is a checksum failure (97). A query without any hash is no VNPay notice
    // at all and stays malformed.
    const hash = params.vnp_SecureHash;
    if (hash !== undefined && !VNPAY_SECURE_HASH.test(hash))
      throw new UnusableSignature("vnp_SecureHash is not a SHA-512 hex digest");
    const ipn = VnpayIpn.parse(params);
    return {
      notice: {
        reference: ipn.vnp_TxnRef,
        providerTxnId: ipn.vnp_TransactionNo,
        amountVnd: vnpayAmountVnd(ipn.vnp_Amount),
        outcome: vnpayOutcome(ipn),
        resultCode: `${ipn.vnp_ResponseCode}/${ipn.vnp_TransactionStatus}`,
        message: `ResponseCode ${ipn.vnp_ResponseCode}, TransactionStatus ${ipn.vnp_TransactionStatus}`,
      },
      merchantCode: ipn.vnp_TmnCode,
      verify: (creds) => verifyVnpayIpn(creds, ipn),
    };
  },
  reply(outcome, detail) {
    switch (outcome) {
      case "accepted":
      case "pending":
        return { status: 200, body: VNPAY_RSP.success };
      case "duplicate":
      case "already_paid":
        return { status: 200, body: VNPAY_RSP.alreadyConfirmed };
      case "invalid_signature":
        return { status: 200, body: VNPAY_RSP.invalidSignature };
      case "unknown_order":
        return { status: 200, body: VNPAY_RSP.orderNotFound };
      case "amount_mismatch":
        return { status: 200, body: VNPAY_RSP.invalidAmount };
      case "unavailable":
        return { status: 200, body: VNPAY_RSP.unknownError };
      case "provider_disabled":
        return { status: 200, body: VNPAY_RSP.merchantNotEnabled };
      case "rate_limited":
        return {
          status: 429,
          body: { ...VNPAY_RSP.unknownError, error: { code: "RATE_LIMITED", message: detail } },
        };
      case "malformed":
        return {
          status: 400,
          body: { ...VNPAY_RSP.unknownError, error: { code: "BAD_USER_INPUT", message: detail } },
        };
    }
  },
};

export const ADAPTERS = { momo, zalopay, vnpay } as const;
