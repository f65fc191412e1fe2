// The notifications scenarios' helpers (test/e2e/payments/notifications-*.scenario.ts): the
// DEV ONLY push sink, the owner's preferences and feed, the notifications app's metrics, and the
// location's clock for quiet hours.
import assert from "node:assert/strict";
import type { PaymentsMesh } from "./payments.js";

export interface Feed {
  notifications: { id: string; kind: string; title: string; body: string; read: boolean }[];
  unreadNotificationCount: number;
}

/** The DEV ONLY push sink's URL (what FCM would have received). */
export const pushSink = (h: PaymentsMesh) => `${h.mesh.devSinksUrl}/push`;

export async function pushed(h: PaymentsMesh) {
  return (
    (await (await fetch(pushSink(h))).json()) as {
      messages: {
        message: { token: string; notification: { title: string }; data: { notificationId: string } };
      }[];
    }
  ).messages;
}

export async function setPreferences(h: PaymentsMesh, input: Record<string, unknown>): Promise<void> {
  const res = await h.gql(
    `mutation ($input: NotificationPreferencesInput!) { updateNotificationPreferences(input: $input) { mutedKinds pushEnabled quietHoursStart quietHoursEnd } }`,
    { input },
  );
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
}

/** The owner's feed (first 50) and unread count. */
export async function feed(h: PaymentsMesh): Promise<Feed> {
  const res = await h.gql<Feed>(
    `{ notifications(first: 50) { id kind title body read } unreadNotificationCount }`,
  );
  assert.ok(res.data, JSON.stringify(res.errors));
  return res.data;
}

/** Minutes since midnight in Asia/Ho_Chi_Minh (the demo locations' clock). */
export function hcmMinute(): number {
  const p = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Ho_Chi_Minh",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date());
  const [h, m] = p.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** "HH:MM" of a minute of the day (wrapping). */
export function clock(minute: number): string {
  const m = ((minute % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/** One sample of the notifications app's /metrics, by the start of its line. */
export async function notificationsMetric(h: PaymentsMesh, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${h.mesh.plan.apps.notifications.ops}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return Number(line?.split(" ").pop() ?? 0);
}
