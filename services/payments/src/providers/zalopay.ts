import { z } from "zod";
import { gmt7Parts, hexDigestsEqual, hmacHex } from "./signatures.js";

export const ZaloPayCredentials = z.object({
  appId: z.coerce.number().int().positive(),
  key1: z.string().min(1),
  key2: z.string().min(1),
});
export type ZaloPayCredentials = z.infer<typeof ZaloPayCredentials>;

/** The callback envelope: `data` is a JSON string signed as-is, never re-serialized. */
export const ZaloPayCallback = z.object({
  data: z.string().min(2).max(20_000),
  mac: z.string().regex(/^[0-9a-fA-F]{64}$/, "mac must be 64 hex characters"),
  type: z.union([z.literal(1), z.literal(2)]).default(1),
});
export type ZaloPayCallback = z.infer<typeof ZaloPayCallback>;

const safeLong = z.number().int().refine(Number.isSafeInteger, "number too large");

/** The fields inside `data` that payment handling needs (others are kept in the raw payload). */
export const ZaloPayCallbackData = z.object({
  app_id: z.number().int(),
  app_trans_id: z.string().min(1).max(40),
  app_time: safeLong,
  amount: safeLong.nonnegative(),
  zp_trans_id: safeLong,
  server_time: safeLong.optional(),
});
export type ZaloPayCallbackData = z.infer<typeof ZaloPayCallbackData>;

export function zaloPayMac(key: string, data: string): string {
  return hmacHex("sha256", key, data);
}

/** True when `mac` is HMAC-SHA256(key2, data) over the data string exactly as received. */
export function verifyZaloPayCallback(creds: ZaloPayCredentials, callback: ZaloPayCallback): boolean {
  return hexDigestsEqual(zaloPayMac(creds.key2, callback.data), callback.mac);
}

/** How ZaloPay must be answered; 0 makes it call back again (at most 3 times). */
export const ZALOPAY_RETURN = {
  success: { return_code: 1, return_message: "success" },
  duplicate: { return_code: 2, return_message: "duplicate zp_trans_id / app_trans_id" },
  invalidMac: { return_code: -1, return_message: "mac not equal" },
  rejected: (reason: string) => ({ return_code: -1, return_message: reason }),
  retryLater: { return_code: 0, return_message: "temporary error, please call back again" },
} as const;

/** `app_trans_id` must start with yymmdd in GMT+7; the rest is ours (max 40 characters). */
export function zaloPayAppTransId(at: Date, suffix: string): string {
  return `${gmt7Parts(at).yymmdd}_${suffix}`.slice(0, 40);
}

export const ZALOPAY_CREATE_PATH = "/v2/create";
export const ZALOPAY_QUERY_PATH = "/v2/query";

/** The signed form a client POSTs to ZaloPay's /v2/create. */
export function buildZaloPayCreateRequest(
  creds: ZaloPayCredentials,
  input: {
    appTransId: string;
    appUser: string;
    amount: number;
    appTime: number;
    description: string;
    callbackUrl: string;
    embedData?: string;
    item?: string;
  },
) {
  const embedData = input.embedData ?? "{}";
  const item = input.item ?? "[]";
  const raw = [
    creds.appId,
    input.appTransId,
    input.appUser,
    input.amount,
    input.appTime,
    embedData,
    item,
  ].join("|");
  return {
    app_id: creds.appId,
    app_trans_id: input.appTransId,
    app_user: input.appUser,
    app_time: input.appTime,
    amount: input.amount,
    item,
    embed_data: embedData,
    description: input.description,
    callback_url: input.callbackUrl,
    bank_code: "",
    mac: hmacHex("sha256", creds.key1, raw),
  };
}

/** The signed form of ZaloPay's /v2/query: mac = HMAC(key1, app_id|app_trans_id|key1). */
export function buildZaloPayQueryRequest(creds: ZaloPayCredentials, appTransId: string) {
  return {
    app_id: creds.appId,
    app_trans_id: appTransId,
    mac: hmacHex("sha256", creds.key1, `${creds.appId}|${appTransId}|${creds.key1}`),
  };
}

/** return_code 1 paid, 2 failed, 3 still processing. */
export const ZaloPayQueryResponse = z.object({
  return_code: z.number().int(),
  return_message: z.string().optional(),
  amount: safeLong.optional(),
  zp_trans_id: safeLong.optional(),
});
