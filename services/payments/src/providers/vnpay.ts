import { z } from "zod";
import { gmt7Parts, hexDigestsEqual, hmacHex } from "./signatures.js";

export const VnpayCredentials = z.object({
  tmnCode: z.string().min(1),
  hashSecret: z.string().min(1),
});
export type VnpayCredentials = z.infer<typeof VnpayCredentials>;

const HASH_FIELDS = new Set(["vnp_SecureHash", "vnp_SecureHashType"]);

/**
 * The string VNPay signs: keys sorted ascending, keys and values form-encoded as Java's
 * URLEncoder / URLSearchParams do (space → '+', only `*-._` kept), joined with '&'. Hash fields
 * and empty values are left out, as VNPay's own libraries do.
 */
export function vnpaySignData(params: Record<string, string>): string {
  const entries = Object.entries(params)
    .filter(([k, v]) => !HASH_FIELDS.has(k) && v !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(entries).toString();
}

export function vnpaySecureHash(hashSecret: string, params: Record<string, string>): string {
  return hmacHex("sha512", hashSecret, vnpaySignData(params));
}

/** HMAC-SHA512 as hex, either case. */
export const VNPAY_SECURE_HASH = /^[0-9a-fA-F]{128}$/;

const digits = (n: number) => z.string().regex(new RegExp(`^\\d{1,${n}}$`));

/** The IPN query VNPay sends (v2.1.0); other vnp_ fields are signed but not needed here. */
export const VnpayIpn = z
  .object({
    vnp_TmnCode: z.string().min(1).max(20),
    vnp_Amount: digits(15),
    vnp_TxnRef: z.string().min(1).max(100),
    vnp_TransactionNo: z.string().min(1).max(30),
    vnp_ResponseCode: z.string().min(1).max(4),
    vnp_TransactionStatus: z.string().min(1).max(4),
    vnp_SecureHash: z.string().regex(VNPAY_SECURE_HASH, "vnp_SecureHash must be 128 hex characters"),
  })
  .catchall(z.string().max(2000));
export type VnpayIpn = z.infer<typeof VnpayIpn>;

/** Parses a raw query string; a repeated key is malformed (it would be signed ambiguously). */
export function parseVnpayQuery(rawQuery: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    if (Object.hasOwn(out, k))
      throw new z.ZodError([{ code: "custom", path: [k], message: "repeated key", input: v }]);
    out[k] = v;
  }
  return out;
}

export function verifyVnpayIpn(creds: VnpayCredentials, ipn: VnpayIpn): boolean {
  const signatureOk = hexDigestsEqual(vnpaySecureHash(creds.hashSecret, ipn), ipn.vnp_SecureHash);
  return signatureOk && ipn.vnp_TmnCode === creds.tmnCode;
}

/** VND from vnp_Amount (VND × 100); null when it is not a whole number of đồng. */
export function vnpayAmountVnd(vnpAmount: string): number | null {
  const n = Number(vnpAmount);
  return Number.isSafeInteger(n) && n % 100 === 0 ? n / 100 : null;
}

/** Paid only when both the response code and the transaction status are "00". */
export function vnpayOutcome(ipn: VnpayIpn): "succeeded" | "failed" {
  return ipn.vnp_ResponseCode === "00" && ipn.vnp_TransactionStatus === "00" ? "succeeded" : "failed";
}

export const VNPAY_RSP = {
  success: { RspCode: "00", Message: "Confirm Success" },
  orderNotFound: { RspCode: "01", Message: "Order not found" },
  alreadyConfirmed: { RspCode: "02", Message: "Order already confirmed" },
  invalidAmount: { RspCode: "04", Message: "Invalid amount" },
  invalidSignature: { RspCode: "97", Message: "Invalid signature" },
  unknownError: { RspCode: "99", Message: "Unknown error" },
  // VNPay's IPN reply codes have none for "this merchant is switched off" (research/domain.md:
  // 00/01/02/04/97/99). 99 is the one that makes VNPay call again later rather than give up, so
  // a payment taken just before the switch settles once VNPay is back on for the restaurant (or
  // by reconciliation); the message says why.
  merchantNotEnabled: { RspCode: "99", Message: "Merchant not enabled" },
} as const;

export const VNPAY_PAY_PATH = "/paymentv2/vpcpay.html";
export const VNPAY_QUERY_PATH = "/merchant_webapi/api/transaction";

/** The signed payment URL a client opens (vnp_Command=pay, v2.1.0, HMAC-SHA512). */
export function buildVnpayPaymentUrl(
  creds: VnpayCredentials,
  endpoint: string,
  input: {
    txnRef: string;
    amountVnd: number;
    orderInfo: string;
    returnUrl: string;
    ipAddr: string;
    at: Date;
  },
): string {
  const params: Record<string, string> = {
    vnp_Version: "2.1.0",
    vnp_Command: "pay",
    vnp_TmnCode: creds.tmnCode,
    vnp_Amount: String(input.amountVnd * 100),
    vnp_CurrCode: "VND",
    vnp_TxnRef: input.txnRef,
    vnp_OrderInfo: input.orderInfo,
    vnp_OrderType: "other",
    vnp_Locale: "vn",
    vnp_ReturnUrl: input.returnUrl,
    vnp_IpAddr: input.ipAddr,
    vnp_CreateDate: gmt7Parts(input.at).compact,
    vnp_ExpireDate: gmt7Parts(new Date(input.at.getTime() + 15 * 60_000)).compact,
  };
  const signData = vnpaySignData(params);
  return `${endpoint}?${signData}&vnp_SecureHash=${hmacHex("sha512", creds.hashSecret, signData)}`;
}

/** The signed body of VNPay's querydr (transaction status) call, used by reconciliation. */
export function buildVnpayQueryRequest(
  creds: VnpayCredentials,
  input: { requestId: string; txnRef: string; transactionDate: Date; at: Date; ipAddr: string },
) {
  const f = {
    vnp_RequestId: input.requestId,
    vnp_Version: "2.1.0",
    vnp_Command: "querydr",
    vnp_TmnCode: creds.tmnCode,
    vnp_TxnRef: input.txnRef,
    vnp_OrderInfo: `Truy van giao dich ${input.txnRef}`,
    vnp_TransactionDate: gmt7Parts(input.transactionDate).compact,
    vnp_CreateDate: gmt7Parts(input.at).compact,
    vnp_IpAddr: input.ipAddr,
  };
  const data = [
    f.vnp_RequestId,
    f.vnp_Version,
    f.vnp_Command,
    f.vnp_TmnCode,
    f.vnp_TxnRef,
    f.vnp_TransactionDate,
    f.vnp_CreateDate,
    f.vnp_IpAddr,
    f.vnp_OrderInfo,
  ].join("|");
  return { ...f, vnp_SecureHash: hmacHex("sha512", creds.hashSecret, data) };
}

export const VnpayQueryResponse = z.object({
  vnp_ResponseCode: z.string(),
  vnp_TxnRef: z.string().optional(),
  vnp_Amount: z.string().optional(),
  vnp_TransactionNo: z.string().optional(),
  vnp_TransactionStatus: z.string().optional(),
});
