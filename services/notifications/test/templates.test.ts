import { test } from "node:test";
import assert from "node:assert/strict";
import {
  dailyDigest,
  formatDateTime,
  formatVnd,
  paymentSucceeded,
  summarizeItems,
} from "../src/templates.js";
import { inQuietHours, localMinute, parseClock } from "../src/quiet-hours.js";

// ICU may change the space before ₫; compare with it normalized (docs/domain.md §2).
const nbsp = (s: string) => s.replace(/\u00a0/g, " ");

test("money is vi-VN: dots between thousands, ₫ after a no-break space", () => {
  assert.equal(nbsp(formatVnd(50_000)), "50.000 ₫");
  assert.equal(nbsp(formatVnd(1_234_567)), "1.234.567 ₫");
  assert.equal(formatVnd(50_000).includes("\u20ab"), true);
});

test("dates: time before date, in the location's zone", () => {
  assert.equal(formatDateTime(new Date("2024-01-01T17:30:00Z"), "Asia/Ho_Chi_Minh"), "00:30 02/01/2024");
  assert.equal(formatDateTime(new Date("2024-01-01T17:30:00Z"), "UTC"), "17:30 01/01/2024");
});

test("the payment template reads like the spec's example", () => {
  const r = paymentSucceeded(
    {
      paymentId: "00000000-0000-4000-8000-000000000001",
      tenantId: "00000000-0000-4000-8000-000000000002",
      locationId: "00000000-0000-4000-8000-000000000003",
      orderId: "00000000-0000-4000-8000-000000000004",
      provider: "momo",
      providerTransactionId: "1",
      amountVnd: 50_000,
      occurredAt: "2024-01-01T07:05:00Z",
    },
    [{ name: "Cà phê sữa đá", quantity: 1 }],
    "Asia/Ho_Chi_Minh",
  );
  assert.equal(nbsp(r.title), "Thanh toán mới: 50.000 ₫ — Cà phê sữa đá");
  assert.equal(nbsp(r.body), "Đã nhận 50.000 ₫ qua MoMo lúc 14:05 01/01/2024.");
  assert.equal(
    summarizeItems([
      { name: "A", quantity: 1 },
      { name: "B", quantity: 2 },
      { name: "C", quantity: 1 },
      { name: "D", quantity: 1 },
    ]),
    "A, B ×2, C và 1 món khác",
  );
  const d = dailyDigest({
    businessDay: "2026-11-22",
    revenueVnd: 1_250_000,
    orders: 25,
    locationName: "Quận 1",
  });
  assert.equal(nbsp(d.title), "Tổng kết ngày 22/11/2026: 1.250.000 ₫");
  assert.equal(nbsp(d.body), "Quận 1: 25 đơn, trung bình 50.000 ₫ mỗi đơn.");
});

test("quiet hours are read on the location's clock and may wrap past midnight", () => {
  const q = { startMinute: parseClock("22:00") ?? 0, endMinute: parseClock("07:00") ?? 0 };
  const hcm = "Asia/Ho_Chi_Minh";
  // 15:30 UTC = 22:30 in Vietnam: quiet there, not in UTC.
  assert.equal(localMinute(new Date("2024-01-01T15:30:00Z"), hcm), 22 * 60 + 30);
  assert.equal(inQuietHours(new Date("2024-01-01T15:30:00Z"), hcm, q), true);
  assert.equal(inQuietHours(new Date("2024-01-01T15:30:00Z"), "UTC", q), false);
  assert.equal(inQuietHours(new Date("2024-01-01T23:59:00Z"), hcm, q), true); // 06:59
  assert.equal(inQuietHours(new Date("2024-01-02T00:00:00Z"), hcm, q), false); // 07:00
  const lunch = { startMinute: parseClock("12:00") ?? 0, endMinute: parseClock("13:00") ?? 0 };
  assert.equal(inQuietHours(new Date("2024-01-01T05:30:00Z"), hcm, lunch), true);
  assert.equal(inQuietHours(new Date("2024-01-01T06:00:00Z"), hcm, lunch), false);
  assert.equal(inQuietHours(new Date(), hcm, null), false);
  assert.equal(parseClock("24:00"), null);
});

test("push messages have the FCM HTTP v1 shape, data values as strings", async () => {
  const { fcmMessage } = await import("../src/push.js");
  const m = fcmMessage("token-1", {
    notificationId: "00000000-0000-4000-8000-000000000001",
    tenantId: "00000000-0000-4000-8000-000000000002",
    userId: "00000000-0000-4000-8000-000000000003",
    kind: "payment",
    title: "Thanh toán mới",
    body: "Đã nhận",
    createdAt: "2026-01-01T00:00:00.000Z",
  });
  assert.equal(m.message.token, "token-1");
  assert.deepEqual(m.message.notification, { title: "Thanh toán mới", body: "Đã nhận" });
  assert.ok(Object.values(m.message.data).every((v) => typeof v === "string"));
  assert.equal(m.message.android.priority, "HIGH");
});
