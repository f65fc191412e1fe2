// A payment reaches the owner's feed and device; quiet hours and muted kinds; a failing push
// ends in the dead-letter topic and replays once the sink is back.
import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { serviceDatabaseUrl } from "../../../scripts/mesh/infra.js";
import { DEMO, eventually } from "../../support/graphql-client.js";
import { payAndAwaitPaymentEvent, type PaymentsMesh } from "../../support/payments.js";
import {
  feed,
  setPreferences,
  pushed,
  pushSink,
  hcmMinute,
  clock,
  notificationsMetric,
} from "../../support/notifications.js";

export function notificationFeedAndPushScenarios(h: PaymentsMesh): void {
  test("a payment reaches the owner's feed in Vietnamese and their device as an FCM v1 message", async () => {
    const { gql, subscribe } = h;
    const now = hcmMinute();
    await setPreferences(h, {
      pushToken: "dev-device-token-1",
      mutedKinds: [],
      pushEnabled: true,
      quietHoursStart: clock(now + 120),
      quietHoursEnd: clock(now + 180),
    });
    const live = subscribe<{ data: { notificationReceived: { id: string; kind: string; title: string } } }>(
      `subscription { notificationReceived { id kind title } }`,
    );
    const otherTenant = subscribe<{ data: { notificationReceived: { id: string } } }>(
      `subscription { notificationReceived { id } }`,
      DEMO.caPhe.slug,
    );
    await Promise.all([live.ready, otherTenant.ready]);
    const before = await feed(h);
    await payAndAwaitPaymentEvent(h);
    // The list and the unread count are two queries that run side by side: one answer can hold
    // the new entry while its count was read just before the insert (CI saw 10, not 11). Wait
    // for both; the count must then have grown by exactly one.
    const after = await eventually("feed entry and its unread count", async () => {
      const f = await feed(h);
      const grown =
        f.notifications.length > before.notifications.length &&
        f.unreadNotificationCount > before.unreadNotificationCount;
      return grown ? f : undefined;
    });
    const entry = after.notifications[0];
    assert.equal(entry?.kind, "payment");
    assert.equal(entry?.title.replace(/\u00a0/g, " "), "Thanh toán mới: 60.000 ₫ — Phở bò tái, Trà đá");
    assert.match(entry?.body ?? "", /qua MoMo lúc \d{2}:\d{2} \d{2}\/\d{2}\/\d{4}\.$/);
    assert.equal(after.unreadNotificationCount, before.unreadNotificationCount + 1);
    // The owner's notificationReceived subscription fired with the same entry.
    const received = await eventually("notificationReceived", async () =>
      live.events.find((e) => e.data.notificationReceived.id === entry?.id),
    );
    live.close();
    otherTenant.close();
    assert.deepEqual(otherTenant.events, [], "another tenant's subscription sees nothing");
    assert.equal(received.data.notificationReceived.title, entry?.title);
    assert.equal(received.data.notificationReceived.kind, "payment");
    const push = await eventually("push delivered", async () =>
      (await pushed(h)).find((m) => m.message.data.notificationId === entry?.id),
    );
    assert.equal(push.message.token, "dev-device-token-1");
    assert.equal(push.message.notification.title, entry?.title);

    const marked = await gql<{ markNotificationsRead: number }>(`mutation { markNotificationsRead }`);
    assert.ok((marked.data?.markNotificationsRead ?? 0) >= 1);
    assert.equal((await feed(h)).unreadNotificationCount, 0);
  });

  test("preferences: quiet hours on the location's clock hold the push back; a muted kind writes nothing", async () => {
    const { mesh, gql } = h;
    const now = hcmMinute();
    await setPreferences(h, { quietHoursStart: clock(now - 60), quietHoursEnd: clock(now + 60) });
    const quietBefore = await notificationsMetric(h, 'notifications_push_total{result="quiet_hours"}');
    const sentBefore = (await pushed(h)).length;
    const before = await feed(h);
    await payAndAwaitPaymentEvent(h);
    await eventually("feed entry in quiet hours", async () =>
      (await feed(h)).notifications.length > before.notifications.length ? true : undefined,
    );
    await eventually("push held back", async () =>
      (await notificationsMetric(h, 'notifications_push_total{result="quiet_hours"}')) > quietBefore
        ? true
        : undefined,
    );
    assert.equal((await pushed(h)).length, sentBefore);

    await setPreferences(h, { mutedKinds: ["payment"], quietHoursStart: null, quietHoursEnd: null });
    const count = (await feed(h)).notifications.length;
    const { eventId } = await payAndAwaitPaymentEvent(h);
    const notificationsDb = new pg.Pool({
      connectionString: serviceDatabaseUrl(mesh.plan.postgres, "notifications"),
      max: 1,
    });
    try {
      await eventually("muted event processed", async () => {
        const r = await notificationsDb.query("SELECT 1 FROM processed_events WHERE event_id = $1", [
          eventId,
        ]);
        return r.rows.length ? true : undefined;
      });
    } finally {
      await notificationsDb.end();
    }
    assert.equal((await feed(h)).notifications.length, count);

    const bad = await gql(
      `mutation { updateNotificationPreferences(input: { quietHoursStart: "25:00", quietHoursEnd: "07:00" }) { pushEnabled } }`,
    );
    assert.equal(bad.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const half = await gql(
      `mutation { updateNotificationPreferences(input: { quietHoursStart: "22:00" }) { pushEnabled } }`,
    );
    assert.equal(half.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  test("a push that keeps failing ends in the dead-letter topic and replays once the sink is back", async () => {
    const { gql } = h;
    await setPreferences(h, { mutedKinds: [], pushToken: "dev-device-token-2" });
    await fetch(`${pushSink(h)}/failing`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failing: true }),
    });
    const before = await feed(h);
    await payAndAwaitPaymentEvent(h);
    const entry = await eventually("feed entry", async () => {
      const f = await feed(h);
      return f.notifications.length > before.notifications.length ? f.notifications[0] : undefined;
    });
    interface DeadLetter {
      id: string;
      eventType: string;
      data: string;
      replays: number;
    }
    const dead = await eventually(
      "dead letter listed",
      async () => {
        const res = await gql<{ deadLetters: DeadLetter[] }>(`{ deadLetters { id eventType data replays } }`);
        return res.data?.deadLetters.find(
          (d) => (JSON.parse(d.data) as { notificationId?: string }).notificationId === entry?.id,
        );
      },
      60_000,
    );
    assert.equal(dead.eventType, "notification.created");
    assert.equal(
      (await pushed(h)).some((m) => m.message.data.notificationId === entry?.id),
      false,
    );

    await fetch(`${pushSink(h)}/failing`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failing: false }),
    });
    const replayed = await gql<{ replayDeadLetter: DeadLetter }>(
      `mutation ($id: ID!) { replayDeadLetter(id: $id) { id replays } }`,
      { id: dead.id },
    );
    assert.equal(replayed.data?.replayDeadLetter.replays, 1, JSON.stringify(replayed.errors));
    const push = await eventually("replayed push delivered", async () =>
      (await pushed(h)).find((m) => m.message.data.notificationId === entry?.id),
    );
    assert.equal(push.message.token, "dev-device-token-2");
    const left = await gql<{ deadLetters: DeadLetter[] }>(`{ deadLetters { id } }`);
    assert.equal(
      left.data?.deadLetters.some((d) => d.id === dead.id),
      false,
    );
    const missing = await gql(
      `mutation { replayDeadLetter(id: "00000000-0000-4000-8000-000000000000") { id } }`,
    );
    assert.equal(missing.errors?.[0]?.extensions?.code, "NOT_FOUND");
  });
}
