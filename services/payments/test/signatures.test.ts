// Provider signatures against the public vectors of docs/domain.md §1, plus our own.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildMomoCreateRequest,
  momoIpnRawSignature,
  momoOutcome,
  signMomoIpn,
  verifyMomoIpn,
  type MomoIpn,
} from "../src/providers/momo.js";
import {
  buildZaloPayQueryRequest,
  verifyZaloPayCallback,
  zaloPayAppTransId,
  zaloPayMac,
} from "../src/providers/zalopay.js";
import {
  buildVnpayPaymentUrl,
  parseVnpayQuery,
  vnpayAmountVnd,
  vnpaySecureHash,
  vnpaySignData,
  VnpayIpn,
  verifyVnpayIpn,
} from "../src/providers/vnpay.js";
import { gmt7Parts, hexDigestsEqual, hmacHex } from "../src/providers/signatures.js";

const MOMO_SANDBOX = {
  partnerCode: "MOMO",
  accessKey: "F8BBA842ECF85",
  secretKey: "K951B6PE1waDMi640xX08PD3vg6EkVlz",
};
const momoIpn: Omit<MomoIpn, "signature"> = {
  partnerCode: "MOMO",
  orderId: "MOMO1700000000000",
  requestId: "MOMO1700000000000",
  amount: 50000,
  orderInfo: "pay with MoMo",
  orderType: "momo_wallet",
  transId: 4000000001,
  resultCode: 0,
  message: "Successful.",
  payType: "qr",
  responseTime: 1700000005000,
  extraData: "",
};

test("MoMo: the raw string is a–z with raw values, and the domain.md vector verifies", () => {
  assert.equal(
    momoIpnRawSignature(MOMO_SANDBOX.accessKey, momoIpn),
    "accessKey=F8BBA842ECF85&amount=50000&extraData=&message=Successful.&orderId=MOMO1700000000000&orderInfo=pay with MoMo&orderType=momo_wallet&partnerCode=MOMO&payType=qr&requestId=MOMO1700000000000&responseTime=1700000005000&resultCode=0&transId=4000000001",
  );
  const signed = signMomoIpn(MOMO_SANDBOX, momoIpn);
  assert.equal(signed.signature, "a8b37594feeaa0615c94632516824f217d224778b422a9b0dffbc0cb05559cf6");
  assert.equal(verifyMomoIpn(MOMO_SANDBOX, signed), true);
  assert.equal(verifyMomoIpn(MOMO_SANDBOX, { ...signed, signature: signed.signature.toUpperCase() }), true);
});

test("MoMo: any changed field, another key or another partner code fails", () => {
  const signed = signMomoIpn(MOMO_SANDBOX, momoIpn);
  assert.equal(verifyMomoIpn(MOMO_SANDBOX, { ...signed, amount: 5000 }), false);
  assert.equal(verifyMomoIpn(MOMO_SANDBOX, { ...signed, orderInfo: "pay with MoMo " }), false);
  assert.equal(verifyMomoIpn({ ...MOMO_SANDBOX, secretKey: "other" }, signed), false);
  const otherPartner = { ...MOMO_SANDBOX, partnerCode: "OTHER" };
  assert.equal(verifyMomoIpn(otherPartner, signMomoIpn(otherPartner, momoIpn)), false);
  // Unicode values are signed as UTF-8, unescaped (our own vector, computed independently).
  const vi = { ...momoIpn, orderInfo: "Cà phê sữa đá" };
  const raw = momoIpnRawSignature(MOMO_SANDBOX.accessKey, vi);
  assert.ok(raw.includes("orderInfo=Cà phê sữa đá&"));
  assert.equal(signMomoIpn(MOMO_SANDBOX, vi).signature, hmacHex("sha256", MOMO_SANDBOX.secretKey, raw));
});

test("MoMo: result codes map to success, pending and failure", () => {
  assert.equal(momoOutcome(0), "succeeded");
  assert.equal(momoOutcome(9000), "succeeded");
  assert.equal(momoOutcome(1000), "pending");
  assert.equal(momoOutcome(1006), "failed");
  assert.equal(momoOutcome(99), "failed");
});

test("MoMo: the create request is signed over its documented field order", () => {
  const body = buildMomoCreateRequest(MOMO_SANDBOX, {
    orderId: "ORD1",
    requestId: "REQ1",
    amount: 50000,
    orderInfo: "Thanh toan",
    redirectUrl: "https://example.vn/r",
    ipnUrl: "https://example.vn/ipn",
  });
  const raw =
    "accessKey=F8BBA842ECF85&amount=50000&extraData=&ipnUrl=https://example.vn/ipn&orderId=ORD1&orderInfo=Thanh toan&partnerCode=MOMO&redirectUrl=https://example.vn/r&requestId=REQ1&requestType=captureWallet";
  assert.equal(body.signature, hmacHex("sha256", MOMO_SANDBOX.secretKey, raw));
  assert.equal(body.requestType, "captureWallet");
});

// The data string of ZaloPay's documented callback sample (docs.zalopay.vn), byte for byte.
const ZP_DATA = String.raw`{"app_id":2553,"app_trans_id":"200904_2553_1598435687208","app_time":1599189392817,"app_user":"demo","amount":10000,"embed_data":"{\"merchantinfo\":\"embeddata123\",\"promotioninfo\":\"\"}","item":"[{\"itemid\":\"knb\",\"itemname\":\"kim nguyen bao\",\"itemprice\":198400,\"itemquantity\":1}]","zp_trans_id":200904000000389,"server_time":1599189413498,"channel":38,"merchant_user_id":"7ZMSl3nEg5sOUJzOLSoUFT8xKNQVaLOLXHB--8Eytqc","user_fee_amount":0,"discount_amount":0}`;
const ZP_SANDBOX = {
  appId: 2553,
  key1: "PcY4iZIKFCIdgZvA6ueMcMHHUbRLYjPL",
  key2: "kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz",
};

test("ZaloPay: the documented callback verifies over the raw data string", () => {
  const mac = "d8d33baf449b31d7f9b94fa50d7c942c08cd4d83f28fa185557da21acb104f67";
  assert.equal(zaloPayMac(ZP_SANDBOX.key2, ZP_DATA), mac);
  assert.equal(verifyZaloPayCallback(ZP_SANDBOX, { data: ZP_DATA, mac, type: 1 }), true);
  // Re-serializing the same JSON changes the bytes (key order, spacing) and must not verify.
  const reserialized = JSON.stringify(JSON.parse(ZP_DATA), null, 1);
  assert.equal(verifyZaloPayCallback(ZP_SANDBOX, { data: reserialized, mac, type: 1 }), false);
  assert.equal(
    verifyZaloPayCallback({ ...ZP_SANDBOX, key2: ZP_SANDBOX.key1 }, { data: ZP_DATA, mac, type: 1 }),
    false,
  );
  assert.equal(
    verifyZaloPayCallback(ZP_SANDBOX, { data: ZP_DATA.replace("10000", "10001"), mac, type: 1 }),
    false,
  );
});

test("ZaloPay: app_trans_id starts with yymmdd in GMT+7 and query mac is key1 over app_id|id|key1", () => {
  // 2024-01-01 17:30 UTC is already 2 January in Vietnam.
  assert.equal(zaloPayAppTransId(new Date("2024-01-01T17:30:00Z"), "abc"), "240102_abc");
  assert.equal(zaloPayAppTransId(new Date("2024-01-01T16:59:59Z"), "abc"), "240101_abc");
  const q = buildZaloPayQueryRequest(ZP_SANDBOX, "240102_abc");
  assert.equal(q.mac, hmacHex("sha256", ZP_SANDBOX.key1, `2553|240102_abc|${ZP_SANDBOX.key1}`));
});

const VNP_QUERY =
  "vnp_Amount=1000000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14422574&vnp_CardType=ATM&vnp_OrderInfo=Thanh+toan+don+hang+2024-05-21T02%3A17%3A31.249Z&vnp_PayDate=20240521091806&vnp_ResponseCode=00&vnp_TmnCode=TEST_TMN_CODE&vnp_TransactionNo=14422574&vnp_TransactionStatus=00&vnp_TxnRef=1716257871703";
const VNP_HASH =
  "649982421beb422556a1374713c74e58e716ecbd05007c0c0e1f7effdfaf361dbf146889ca446139afe11b9954c4d5c486e99e3b86fcfab6957f29eb0be72895";

test("VNPay: the public IPN vector verifies over the sorted, form-encoded query", () => {
  const creds = { tmnCode: "TEST_TMN_CODE", hashSecret: "test_secret" };
  // Shuffled order and the hash fields present: both are ignored by the sign data.
  const shuffled = `vnp_TxnRef=1716257871703&vnp_SecureHashType=HmacSHA512&${VNP_QUERY.split("&").reverse().join("&")}&vnp_SecureHash=${VNP_HASH.toUpperCase()}`;
  const params = parseVnpayQuery(shuffled.replace("vnp_TxnRef=1716257871703&", ""));
  assert.equal(vnpaySignData(params), VNP_QUERY);
  assert.equal(vnpaySecureHash("test_secret", params), VNP_HASH);
  const ipn = VnpayIpn.parse(params);
  assert.equal(verifyVnpayIpn(creds, ipn), true);
  assert.equal(verifyVnpayIpn({ ...creds, hashSecret: "other" }, ipn), false);
  assert.equal(verifyVnpayIpn({ ...creds, tmnCode: "OTHER" }, ipn), false);
  assert.equal(verifyVnpayIpn(creds, { ...ipn, vnp_Amount: "2000000" }), false);
  assert.equal(vnpayAmountVnd(ipn.vnp_Amount), 10_000);
  assert.equal(vnpayAmountVnd("1000050"), null);
});

test("VNPay: a repeated key is malformed; encoding follows URLSearchParams", () => {
  assert.throws(() => parseVnpayQuery("vnp_Amount=1&vnp_Amount=2"));
  assert.equal(vnpaySignData({ b: "x y*~()!'", a: "Cà phê" }), "a=C%C3%A0+ph%C3%AA&b=x+y*%7E%28%29%21%27");
});

test("VNPay: the payment URL carries a hash that verifies over its own parameters", () => {
  const creds = { tmnCode: "LSPTEST1", hashSecret: "dev_secret" };
  const url = buildVnpayPaymentUrl(creds, "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html", {
    txnRef: "abc123",
    amountVnd: 50_000,
    orderInfo: "Thanh toan don abc123",
    returnUrl: "https://example.vn/return",
    ipAddr: "127.0.0.1",
    at: new Date("2024-05-21T02:18:06Z"),
  });
  const params = parseVnpayQuery(new URL(url).search.slice(1));
  assert.equal(params.vnp_Amount, "5000000");
  assert.equal(params.vnp_CreateDate, "20240521091806");
  assert.equal(params.vnp_SecureHash, vnpaySecureHash(creds.hashSecret, params));
});

test("constant-time compare: case-insensitive, false on other lengths or non-hex", () => {
  assert.equal(hexDigestsEqual("abcdef", "ABCDEF"), true);
  assert.equal(hexDigestsEqual("abcdef", "abcde"), false);
  assert.equal(hexDigestsEqual("abcdef", "abcdeg"), false);
  assert.equal(hexDigestsEqual("abcdef", ""), false);
  assert.deepEqual(gmt7Parts(new Date("2024-05-21T02:18:06Z")), {
    yymmdd: "240521",
    compact: "20240521091806",
  });
});
