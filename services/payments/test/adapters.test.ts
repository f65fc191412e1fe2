// Each provider's reply for every outcome, and what each adapter reads from a request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ADAPTERS, UnusableSignature, type Outcome } from "../src/adapters.js";
import { signMomoIpn } from "../src/providers/momo.js";
import { vnpaySecureHash, vnpaySignData } from "../src/providers/vnpay.js";
import { zaloPayMac } from "../src/providers/zalopay.js";

const outcomes: Outcome[] = [
  "accepted",
  "duplicate",
  "already_paid",
  "pending",
  "malformed",
  "invalid_signature",
  "unknown_order",
  "amount_mismatch",
  "unavailable",
  "rate_limited",
];
const codeOf = (r: { status: number; body?: unknown }) => {
  const b = r.body as Record<string, unknown> | undefined;
  return b?.return_code ?? b?.RspCode ?? (b?.error as { code?: string } | undefined)?.code ?? r.status;
};

test("replies: MoMo 204 when accepted, ZaloPay return_code, VNPay RspCode", () => {
  const table = Object.fromEntries(
    (["momo", "zalopay", "vnpay"] as const).map((p) => [
      p,
      outcomes.map((o) => `${o}:${String(codeOf(ADAPTERS[p].reply(o, "detail")))}`),
    ]),
  );
  assert.deepEqual(table, {
    momo: [
      "accepted:204",
      "duplicate:204",
      "already_paid:CONFLICT",
      "pending:204",
      "malformed:BAD_USER_INPUT",
      "invalid_signature:UNAUTHENTICATED",
      "unknown_order:NOT_FOUND",
      "amount_mismatch:BAD_USER_INPUT",
      "unavailable:UNAVAILABLE",
      "rate_limited:RATE_LIMITED",
    ],
    zalopay: [
      "accepted:1",
      "duplicate:2",
      "already_paid:2",
      "pending:1",
      "malformed:-1",
      "invalid_signature:-1",
      "unknown_order:-1",
      "amount_mismatch:-1",
      "unavailable:0",
      "rate_limited:0",
    ],
    vnpay: [
      "accepted:00",
      "duplicate:02",
      "already_paid:02",
      "pending:00",
      "malformed:99",
      "invalid_signature:97",
      "unknown_order:01",
      "amount_mismatch:04",
      "unavailable:99",
      "rate_limited:99",
    ],
  });
  // Malformed requests are 4xx for every provider; everything else ZaloPay and VNPay get as 200.
  for (const p of ["momo", "zalopay", "vnpay"] as const)
    assert.equal(ADAPTERS[p].reply("malformed", "x").status, 400);
  assert.equal(ADAPTERS.vnpay.reply("invalid_signature", "x").status, 200);
  assert.equal(ADAPTERS.momo.reply("accepted", "x").body, undefined);
  for (const p of ["momo", "zalopay", "vnpay"] as const)
    assert.equal(ADAPTERS[p].reply("rate_limited", "x").status, 429);
});

test("VNPay: a vnp_SecureHash that cannot be a SHA-512 digest is a checksum failure (97), not malformed (99)", () => {
  const params = {
    vnp_Amount: "500000",
    vnp_TmnCode: "T",
    vnp_TxnRef: "R",
    vnp_TransactionNo: "1",
    vnp_ResponseCode: "00",
    vnp_TransactionStatus: "00",
  };
  for (const hash of ["zz", "ab".repeat(63), "ab".repeat(65), "", `${"g".repeat(128)}`])
    assert.throws(
      () => ADAPTERS.vnpay.parse({ body: "", query: `${vnpaySignData(params)}&vnp_SecureHash=${hash}` }),
      UnusableSignature,
      `hash ${JSON.stringify(hash)}`,
    );
  // No hash at all is no VNPay notice: malformed, as before.
  assert.throws(
    () => ADAPTERS.vnpay.parse({ body: "", query: vnpaySignData(params) }),
    (err: unknown) => !(err instanceof UnusableSignature),
  );
});

test("adapters read the reference, transaction id, amount and outcome; verification uses the given keys", () => {
  const momoCreds = { partnerCode: "P", accessKey: "A", secretKey: "S" };
  const ipn = signMomoIpn(momoCreds, {
    partnerCode: "P",
    orderId: "LSP-1",
    requestId: "r",
    amount: 60000,
    orderInfo: "x",
    orderType: "momo_wallet",
    transId: 123,
    resultCode: 1006,
    message: "declined",
    payType: "qr",
    responseTime: 1,
    extraData: "",
  });
  const m = ADAPTERS.momo.parse({ body: JSON.stringify(ipn), query: "" });
  assert.deepEqual(
    { ...m.notice },
    {
      reference: "LSP-1",
      providerTxnId: "123",
      amountVnd: 60000,
      outcome: "failed",
      resultCode: "1006",
      message: "declined",
    },
  );
  assert.equal(m.verify(momoCreds), true);
  assert.equal(m.verify({ ...momoCreds, secretKey: "T" }), false);

  const zCreds = { appId: 7, key1: "k1", key2: "k2" };
  const data = JSON.stringify({
    app_id: 7,
    app_trans_id: "240101_x",
    app_time: 1,
    amount: 5000,
    zp_trans_id: 99,
  });
  const z = ADAPTERS.zalopay.parse({
    body: JSON.stringify({ data, mac: zaloPayMac("k2", data), type: 1 }),
    query: "",
  });
  assert.equal(z.notice.reference, "240101_x");
  assert.equal(z.verify(zCreds), true);
  assert.equal(z.verify({ ...zCreds, appId: 8 }), false, "another app id");

  const params = {
    vnp_Amount: "500050",
    vnp_TmnCode: "T",
    vnp_TxnRef: "R",
    vnp_TransactionNo: "1",
    vnp_ResponseCode: "00",
    vnp_TransactionStatus: "00",
  };
  const query = `${vnpaySignData(params)}&vnp_SecureHash=${vnpaySecureHash("s", params)}`;
  const v = ADAPTERS.vnpay.parse({ body: "", query });
  assert.equal(v.notice.amountVnd, null, "5000.50 ₫ is not a whole number of đồng");
  assert.equal(v.verify({ tmnCode: "T", hashSecret: "s" }), true);

  assert.throws(() => ADAPTERS.momo.parse({ body: "{}", query: "" }));
  assert.throws(() => ADAPTERS.momo.parse({ body: JSON.stringify({ ...ipn, transId: 2 ** 60 }), query: "" }));
  assert.throws(() =>
    ADAPTERS.zalopay.parse({ body: JSON.stringify({ data: "{", mac: "ab".repeat(32) }), query: "" }),
  );
  assert.throws(() => ADAPTERS.vnpay.parse({ body: "", query: "vnp_Amount=1" }));
});
