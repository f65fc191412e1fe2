// Payments and notifications on the real mesh: provider webhooks through the edge (REST
// pass-through → Dapr service invocation → payments), idempotency under concurrent duplicates,
// rejects that write nothing but an audit record, the payment events downstream, and what the
// owner is told. One mesh for the suite; each scenario file in test/e2e/payments/ is one theme,
// its helpers in test/support/payments.ts and test/support/notifications.ts.
import { describe } from "node:test";
import { usePaymentsMesh } from "../support/payments.js";
import { webhookScenarios } from "./payments/webhooks.scenario.js";
import { rejectScenarios } from "./payments/rejects.scenario.js";
import { outboxAndReconciliationScenarios } from "./payments/outbox-reconciliation.scenario.js";
import { notificationFeedAndPushScenarios } from "./payments/notifications-feed-push.scenario.js";
import { notificationDigestAndAiScenarios } from "./payments/notifications-digest-ai.scenario.js";

describe("payments through the real mesh", { timeout: 600_000 }, () => {
  const h = usePaymentsMesh();
  webhookScenarios(h);
  rejectScenarios(h);
  outboxAndReconciliationScenarios(h);
  notificationFeedAndPushScenarios(h);
  notificationDigestAndAiScenarios(h);
});
