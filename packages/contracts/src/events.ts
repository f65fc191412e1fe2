import { z } from "zod";

/** Dapr pub/sub component every service publishes to and subscribes through. */
export const PUBSUB_NAME = "pubsub";

/** Topics: one stream per producing domain; CloudEvent `type` tells the events apart. */
export const TOPICS = {
  orders: "orders",
  payments: "payments",
  dashboard: "dashboard",
  ai: "ai",
  notifications: "notifications",
  menu: "menu",
  members: "members",
  locations: "locations",
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

const id = z.uuid();
/**
 * Amounts are JSON numbers, exact up to 2^53 − 1 (what JavaScript and most JSON parsers read
 * without rounding; Python reads any integer): far above any order (sales caps one at 10 bn VND)
 * or a location's lifetime revenue. Older events (all far smaller) read unchanged.
 */
const vnd = z
  .number()
  .int()
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER)
  .describe("Amount in VND (integer, no decimals, at most 2^53 − 1)");
const businessDay = z.iso.date().describe("Business day (Asia/Ho_Chi_Minh, after the location's cut-over)");
/**
 * The location's settings the business day was computed with, carried on order events so that
 * consumers never ask auth on their event path (absent in events sent before they were added).
 */
const timeZone = z.string().min(1).max(64).describe("IANA time zone of the location, e.g. Asia/Ho_Chi_Minh");
const cutoverHour = z
  .number()
  .int()
  .min(0)
  .max(23)
  .describe("Local hour at which the location's business day starts");
const locationClock = { timeZone: timeZone.optional(), cutoverHour: cutoverHour.optional() };

export const PaymentMethod = z.enum(["cash", "card", "momo", "zalopay", "vnpay"]);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

export const OrderLine = z.object({
  itemId: id,
  name: z.string().min(1).max(200),
  quantity: z.number().int().positive(),
  unitPriceVnd: vnd,
  /** The item's menu category and its cost at the time of sale (top categories, menu engineering). */
  category: z.string().min(1).max(200).optional(),
  unitCostVnd: vnd.optional(),
});

export const OrderCreated = z.object({
  orderId: id,
  tenantId: id,
  locationId: id,
  businessDay,
  createdAt: z.iso.datetime({ offset: true }),
  paymentMethod: PaymentMethod,
  /** What the customer pays: subtotal − discount. */
  totalVnd: vnd,
  lines: z.array(OrderLine).min(1),
  /** Sum of the lines before the order-level discount (absent in older events: equals totalVnd). */
  subtotalVnd: vnd.optional(),
  discountVnd: vnd.optional(),
  /** Covers, when the staff entered them. */
  guests: z.number().int().positive().optional(),
  /** The staff member who took the order (user id), when known. */
  staffId: z.string().min(1).max(100).optional(),
  ...locationClock,
});
export type OrderCreated = z.infer<typeof OrderCreated>;

export const OrderPaid = z.object({
  orderId: id,
  tenantId: id,
  locationId: id,
  businessDay,
  paidAt: z.iso.datetime({ offset: true }),
  paymentMethod: PaymentMethod,
  totalVnd: vnd,
  /** The payment that settled it (absent for cash / card marked paid by staff). */
  paymentId: id.optional(),
  ...locationClock,
});
export type OrderPaid = z.infer<typeof OrderPaid>;

export const OrderVoided = z.object({
  orderId: id,
  tenantId: id,
  locationId: id,
  businessDay,
  voidedAt: z.iso.datetime({ offset: true }),
  totalVnd: vnd,
  reason: z.string().max(500).optional(),
  ...locationClock,
});
export type OrderVoided = z.infer<typeof OrderVoided>;

export const MenuItemChanged = z.object({
  itemId: id,
  tenantId: id,
  /** Absent when the change applies to every location of the tenant. */
  locationId: id.optional(),
  name: z.string().min(1).max(200),
  category: z.string().min(1).max(200),
  priceVnd: vnd,
  costVnd: vnd.optional(),
  available: z.boolean(),
  changedAt: z.iso.datetime({ offset: true }),
});
export type MenuItemChanged = z.infer<typeof MenuItemChanged>;

export const PaymentProvider = z.enum(["momo", "zalopay", "vnpay"]);
export type PaymentProvider = z.infer<typeof PaymentProvider>;

const paymentFields = {
  paymentId: id,
  tenantId: id,
  locationId: id,
  orderId: id,
  provider: PaymentProvider,
  /** The provider's own transaction id (unique per provider). */
  providerTransactionId: z.string().min(1).max(100),
  amountVnd: vnd,
  /** When payments learned of it: the provider webhook's arrival, or the reconciliation that found it. */
  occurredAt: z.iso.datetime({ offset: true }),
};

export const PaymentSucceeded = z.object({
  ...paymentFields,
  /** What was paid for, as sales had it (lets consumers word a notification without asking sales). */
  items: z
    .array(z.object({ name: z.string().min(1).max(200), quantity: z.number().int().positive() }))
    .max(100)
    .optional(),
});
export type PaymentSucceeded = z.infer<typeof PaymentSucceeded>;

export const PaymentFailed = z.object({
  ...paymentFields,
  /** The provider's result code and message, as received. */
  resultCode: z.string().max(20),
  reason: z.string().max(500),
});
export type PaymentFailed = z.infer<typeof PaymentFailed>;

export const DashboardUpdated = z.object({
  tenantId: id,
  locationId: id,
  businessDay,
  revenueVnd: vnd,
  orders: z.number().int().nonnegative(),
  /**
   * The location-day's version: one more with every batch that changed it (the dashboard commits
   * batches of one day one after another). Updates can arrive out of order (two dashboard
   * replicas' outboxes, concurrent deliveries), so a subscriber drops one whose version is not
   * above the last it got: a live tile never goes back to older totals. Absent on events sent
   * before it was added.
   */
  version: z.number().int().positive().optional(),
  /**
   * Only on an update caused by an order paid through a provider: that payment's `occurredAt`
   * (order.paid's `paidAt`), the arrival of the provider's webhook at payments. The edge measures
   * webhook-to-screen latency from it (edge_webhook_to_screen_seconds).
   */
  providerPaidAt: z.iso.datetime({ offset: true }).optional(),
});
export type DashboardUpdated = z.infer<typeof DashboardUpdated>;

export const Priority = z.enum(["low", "medium", "high"]);

export const AiRecommendationCreated = z.object({
  recommendationId: z.string().min(1).max(200),
  tenantId: id,
  locationId: id,
  kind: z.string().min(1).max(50),
  title: z.string().min(1).max(300),
  reason: z.string().max(2000),
  priority: Priority,
  createdAt: z.iso.datetime({ offset: true }),
});
export type AiRecommendationCreated = z.infer<typeof AiRecommendationCreated>;

export const AiAnomalyDetected = z.object({
  anomalyId: z.string().min(1).max(200),
  tenantId: id,
  locationId: id,
  businessDay,
  /** Start of the hour (or day) that looks wrong. */
  at: z.iso.datetime({ offset: true }),
  kind: z.string().min(1).max(50),
  description: z.string().max(2000),
  severity: Priority,
  score: z.number(),
});
export type AiAnomalyDetected = z.infer<typeof AiAnomalyDetected>;

/** A feed entry written by notifications; the edge turns it into `notificationReceived`. */
export const NotificationCreated = z.object({
  notificationId: id,
  tenantId: id,
  userId: id,
  locationId: id.optional(),
  kind: z.string().min(1).max(50),
  title: z.string().min(1).max(300),
  body: z.string().max(2000),
  createdAt: z.iso.datetime({ offset: true }),
});
export type NotificationCreated = z.infer<typeof NotificationCreated>;

/**
 * A membership ended or changed (auth): the member's live sessions must not outlive it, so the
 * edge closes that user's sockets in that tenant (their refresh tokens are already revoked on
 * removal; a new access token carries the new role or branches).
 */
export const MemberChanged = z.object({
  tenantId: id,
  userId: id,
  change: z.enum(["removed", "role_changed", "scope_changed"]),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type MemberChanged = z.infer<typeof MemberChanged>;

/**
 * The days of the week, Monday first (the order of ISO 8601 and of Python's `weekday()`: Monday
 * is index 0). The one list of their names: auth's GraphQL enum `Weekday`, its column's check and
 * the events' values are these; the AI service reads them from the generated JSON Schema.
 */
export const WEEKDAYS = [
  "MONDAY",
  "TUESDAY",
  "WEDNESDAY",
  "THURSDAY",
  "FRIDAY",
  "SATURDAY",
  "SUNDAY",
] as const;
export const Weekday = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof Weekday>;

/**
 * A location was created or its settings changed (auth, which owns locations): consumers that
 * keep location settings (@lsp/locations) replace theirs instead of asking auth.
 */
export const LocationChanged = z.object({
  tenantId: id,
  locationId: id,
  name: z.string().min(1).max(200),
  timeZone,
  cutoverHour,
  /** Absent in events sent before opening days were added: read as none closed. */
  closedWeekdays: z
    .array(Weekday)
    .max(WEEKDAYS.length - 1)
    .optional()
    .describe("Weekdays the location is closed every week, Monday first; none when absent"),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type LocationChanged = z.infer<typeof LocationChanged>;

/**
 * Every event type: CloudEvent `type` → topic and payload schema. This is the single source;
 * `npm run generate -w @lsp/contracts` writes the JSON Schemas the Python service validates with.
 */
export const EVENTS = {
  "order.created": { topic: TOPICS.orders, schema: OrderCreated },
  "order.paid": { topic: TOPICS.orders, schema: OrderPaid },
  "order.voided": { topic: TOPICS.orders, schema: OrderVoided },
  "menu.item.changed": { topic: TOPICS.menu, schema: MenuItemChanged },
  "payment.succeeded": { topic: TOPICS.payments, schema: PaymentSucceeded },
  "payment.failed": { topic: TOPICS.payments, schema: PaymentFailed },
  "dashboard.updated": { topic: TOPICS.dashboard, schema: DashboardUpdated },
  "ai.recommendation.created": { topic: TOPICS.ai, schema: AiRecommendationCreated },
  "ai.anomaly.detected": { topic: TOPICS.ai, schema: AiAnomalyDetected },
  "notification.created": { topic: TOPICS.notifications, schema: NotificationCreated },
  "member.changed": { topic: TOPICS.members, schema: MemberChanged },
  "location.changed": { topic: TOPICS.locations, schema: LocationChanged },
} as const;
export type EventType = keyof typeof EVENTS;
export type EventPayload<T extends EventType> = z.infer<(typeof EVENTS)[T]["schema"]>;

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENTS, value);
}

/** Parses an event's data against its contract; throws a ZodError on mismatch. */
export function parseEvent<T extends EventType>(type: T, data: unknown): EventPayload<T> {
  return EVENTS[type].schema.parse(data) as EventPayload<T>;
}
