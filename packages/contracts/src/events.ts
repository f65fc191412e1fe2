import { z } from "zod";

/** Dapr pub/sub component every service publishes to and subscribes through. */
export const PUBSUB_NAME = "pubsub";

/** Topics: one stream per producing domain; CloudEvent `type` tells the events apart. */
export const TOPICS = {
  orders: "orders",
  payments: "payments",
  dashboard: "dashboard",
  ai: "ai",
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

const id = z.uuid();
const vnd = z.number().int().nonnegative().describe("Amount in VND (integer, no decimals)");
const businessDay = z.iso.date().describe("Business day (Asia/Ho_Chi_Minh, after the location's cut-over)");

export const PaymentMethod = z.enum(["cash", "card", "momo", "zalopay", "vnpay"]);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

export const OrderLine = z.object({
  itemId: id,
  name: z.string().min(1).max(200),
  quantity: z.number().int().positive(),
  unitPriceVnd: vnd,
});

export const OrderCreated = z.object({
  orderId: id,
  tenantId: id,
  locationId: id,
  businessDay,
  createdAt: z.iso.datetime({ offset: true }),
  paymentMethod: PaymentMethod,
  totalVnd: vnd,
  lines: z.array(OrderLine).min(1),
});
export type OrderCreated = z.infer<typeof OrderCreated>;

export const DashboardUpdated = z.object({
  tenantId: id,
  locationId: id,
  businessDay,
  revenueVnd: vnd,
  orders: z.number().int().nonnegative(),
});
export type DashboardUpdated = z.infer<typeof DashboardUpdated>;

/**
 * Every event type: CloudEvent `type` → topic and payload schema. This is the single source;
 * `npm run generate -w @lsp/contracts` writes the JSON Schemas the Python service validates with.
 */
export const EVENTS = {
  "order.created": { topic: TOPICS.orders, schema: OrderCreated },
  "dashboard.updated": { topic: TOPICS.dashboard, schema: DashboardUpdated },
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
