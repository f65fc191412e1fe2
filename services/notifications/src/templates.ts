import type {
  AiAnomalyDetected,
  AiRecommendationCreated,
  PaymentFailed,
  PaymentSucceeded,
} from "@lsp/contracts";

/** Notification kinds: what preferences mute, and what the feed and push carry. */
export const KINDS = ["payment", "payment_failed", "recommendation", "anomaly", "digest"] as const;
export type Kind = (typeof KINDS)[number];

export interface Rendered {
  kind: Kind;
  title: string;
  body: string;
}

const money = new Intl.NumberFormat("vi-VN", { style: "currency", currency: "VND" });
/** 50000 → "50.000 ₫" (ICU puts a no-break space before the đồng sign). */
export function formatVnd(amount: number): string {
  return money.format(amount);
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
/** "14:05 23/11/2026" in the location's zone: Vietnamese put the time before the date. */
export function formatDateTime(at: Date, timeZone: string): string {
  let f = dateTimeFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("vi-VN", {
      timeZone,
      hour: "2-digit",
      minute: "2-digit",
      day: "2-digit",
      month: "2-digit",
      year: "numeric",
      hourCycle: "h23",
    });
    dateTimeFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.hour}:${p.minute} ${p.day}/${p.month}/${p.year}`;
}

/** "2026-11-22" → "22/11/2026". */
export function formatDay(isoDay: string): string {
  const [y, m, d] = isoDay.split("-");
  return `${d}/${m}/${y}`;
}

const PROVIDER_NAMES = { momo: "MoMo", zalopay: "ZaloPay", vnpay: "VNPay" } as const;

/** "Phở bò tái, Trà đá ×3" — the items of an order, short enough for a phone notification. */
export function summarizeItems(lines: { name: string; quantity: number }[], max = 3): string {
  const shown = lines.slice(0, max).map((l) => (l.quantity > 1 ? `${l.name} ×${l.quantity}` : l.name));
  const more = lines.length - shown.length;
  return more > 0 ? `${shown.join(", ")} và ${more} món khác` : shown.join(", ");
}

export function paymentSucceeded(
  e: PaymentSucceeded,
  items: { name: string; quantity: number }[],
  timeZone: string,
): Rendered {
  const what = items.length ? ` — ${summarizeItems(items)}` : "";
  return {
    kind: "payment",
    title: `Thanh toán mới: ${formatVnd(e.amountVnd)}${what}`,
    body: `Đã nhận ${formatVnd(e.amountVnd)} qua ${PROVIDER_NAMES[e.provider]} lúc ${formatDateTime(new Date(e.occurredAt), timeZone)}.`,
  };
}

export function paymentFailed(e: PaymentFailed, timeZone: string): Rendered {
  return {
    kind: "payment_failed",
    title: `Thanh toán không thành công: ${formatVnd(e.amountVnd)}`,
    body: `${PROVIDER_NAMES[e.provider]} báo lỗi ${e.resultCode} lúc ${formatDateTime(new Date(e.occurredAt), timeZone)}: ${e.reason}`,
  };
}

export function recommendation(e: AiRecommendationCreated): Rendered {
  return { kind: "recommendation", title: `Gợi ý: ${e.title}`, body: e.reason };
}

const SEVERITY = { low: "thấp", medium: "trung bình", high: "cao" } as const;
export function anomaly(e: AiAnomalyDetected, timeZone: string): Rendered {
  return {
    kind: "anomaly",
    title: `Cảnh báo bất thường (mức ${SEVERITY[e.severity]})`,
    body: `${e.description} — ${formatDateTime(new Date(e.at), timeZone)}`,
  };
}

export function dailyDigest(d: {
  businessDay: string;
  revenueVnd: number;
  orders: number;
  locationName: string;
}): Rendered {
  const avg = d.orders > 0 ? Math.round(d.revenueVnd / d.orders) : 0;
  return {
    kind: "digest",
    title: `Tổng kết ngày ${formatDay(d.businessDay)}: ${formatVnd(d.revenueVnd)}`,
    body: `${d.locationName}: ${d.orders} đơn, trung bình ${formatVnd(avg)} mỗi đơn.`,
  };
}
