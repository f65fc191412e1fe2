import { z } from "zod";
import { gmt7Parts, hexDigestsEqual, hmacHex } from "./signatures.js";

/** One tenant's MoMo merchant credentials (from the Dapr secret store). */
export const MomoCredentials = z.object({
  partnerCode: z.string().min(1),
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
});
export type MomoCredentials = z.infer<typeof MomoCredentials>;

/** A whole number MoMo sends as a JSON number; above 2^53 its digits could not be signed exactly. */
const safeLong = z.number().int().refine(Number.isSafeInteger, "number too large to verify exactly");

/** The IPN body of MoMo AIO v2 (captureWallet); other fields are ignored. */
export const MomoIpn = z.object({
  partnerCode: z.string().min(1).max(50),
  orderId: z.string().min(1).max(200),
  requestId: z.string().min(1).max(200),
  amount: safeLong.nonnegative(),
  orderInfo: z.string().max(1000),
  orderType: z.string().max(100),
  transId: safeLong,
  resultCode: z.number().int(),
  message: z.string().max(1000),
  payType: z.string().max(100),
  responseTime: safeLong,
  extraData: z.string().max(10_000),
  signature: z.string().regex(/^[0-9a-fA-F]{64}$/, "signature must be 64 hex characters"),
});
export type MomoIpn = z.infer<typeof MomoIpn>;

/** The IPN's raw signature string: keys a–z, values as sent (no URL-encoding). */
export function momoIpnRawSignature(accessKey: string, ipn: Omit<MomoIpn, "signature">): string {
  return (
    `accessKey=${accessKey}&amount=${ipn.amount}&extraData=${ipn.extraData}&message=${ipn.message}` +
    `&orderId=${ipn.orderId}&orderInfo=${ipn.orderInfo}&orderType=${ipn.orderType}` +
    `&partnerCode=${ipn.partnerCode}&payType=${ipn.payType}&requestId=${ipn.requestId}` +
    `&responseTime=${ipn.responseTime}&resultCode=${ipn.resultCode}&transId=${ipn.transId}`
  );
}

export function signMomoIpn(creds: MomoCredentials, ipn: Omit<MomoIpn, "signature">): MomoIpn {
  return { ...ipn, signature: hmacHex("sha256", creds.secretKey, momoIpnRawSignature(creds.accessKey, ipn)) };
}

/** True when the IPN was signed with these credentials and names their partner code. */
export function verifyMomoIpn(creds: MomoCredentials, ipn: MomoIpn): boolean {
  const expected = hmacHex("sha256", creds.secretKey, momoIpnRawSignature(creds.accessKey, ipn));
  // Both checks run whatever the first result, so timing does not tell which one failed.
  const signatureOk = hexDigestsEqual(expected, ipn.signature);
  return signatureOk && ipn.partnerCode === creds.partnerCode;
}

/** resultCode 0 (paid) and 9000 (authorized, one-step) are success; 1000/7000/7002 are not final. */
export function momoOutcome(resultCode: number): "succeeded" | "pending" | "failed" {
  if (resultCode === 0 || resultCode === 9000) return "succeeded";
  if (resultCode === 1000 || resultCode === 7000 || resultCode === 7002) return "pending";
  return "failed";
}

export const MOMO_CREATE_PATH = "/v2/gateway/api/create";
export const MOMO_QUERY_PATH = "/v2/gateway/api/query";

export interface MomoCreateInput {
  orderId: string;
  requestId: string;
  amount: number;
  orderInfo: string;
  redirectUrl: string;
  ipnUrl: string;
  extraData?: string;
}

/** The signed body a client POSTs to MoMo's /v2/gateway/api/create (captureWallet). */
export function buildMomoCreateRequest(creds: MomoCredentials, input: MomoCreateInput) {
  const f = { ...input, extraData: input.extraData ?? "", requestType: "captureWallet" };
  const raw =
    `accessKey=${creds.accessKey}&amount=${f.amount}&extraData=${f.extraData}&ipnUrl=${f.ipnUrl}` +
    `&orderId=${f.orderId}&orderInfo=${f.orderInfo}&partnerCode=${creds.partnerCode}` +
    `&redirectUrl=${f.redirectUrl}&requestId=${f.requestId}&requestType=${f.requestType}`;
  return {
    partnerCode: creds.partnerCode,
    requestId: f.requestId,
    amount: f.amount,
    orderId: f.orderId,
    orderInfo: f.orderInfo,
    redirectUrl: f.redirectUrl,
    ipnUrl: f.ipnUrl,
    requestType: f.requestType,
    extraData: f.extraData,
    lang: "vi",
    signature: hmacHex("sha256", creds.secretKey, raw),
  };
}

/** The signed body of MoMo's transaction status query (used by reconciliation). */
export function buildMomoQueryRequest(creds: MomoCredentials, orderId: string, requestId: string) {
  const raw = `accessKey=${creds.accessKey}&orderId=${orderId}&partnerCode=${creds.partnerCode}&requestId=${requestId}`;
  return {
    partnerCode: creds.partnerCode,
    requestId,
    orderId,
    lang: "vi",
    signature: hmacHex("sha256", creds.secretKey, raw),
  };
}

/** What the query API answers (the fields reconciliation needs). */
export const MomoQueryResponse = z.object({
  orderId: z.string(),
  transId: safeLong,
  amount: safeLong,
  resultCode: z.number().int(),
  message: z.string(),
});

/** A request id unique enough for MoMo (they reject a repeated one with resultCode 40). */
export function momoRequestId(orderId: string, at: Date): string {
  return `${orderId}-${gmt7Parts(at).compact}`;
}
