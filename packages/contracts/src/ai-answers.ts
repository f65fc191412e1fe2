import { z } from "zod";
import { Priority } from "./events.js";

/**
 * What the ai service's `LocationInsights` actor answers (the edge calls it over the Dapr actor
 * API): the one definition of those answers, for the edge (zod, parsed on every answer) and for
 * the Python actor (the JSON Schemas generated into `schemas/ai.answer.*.json`, checked by its
 * tests and before an answer leaves the actor).
 */

const day = z.iso.date();
const vnd = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** open: still to decide; accepted / dismissed by an owner or manager. */
export const RecommendationStatus = z.enum(["open", "accepted", "dismissed"]);

/** An item's sales over a span of business days (days before the actor's history not counted). */
export const SalesWindow = z.object({
  from: day,
  to: day,
  days: z.number().int().nonnegative(),
  units: z.number().int().nonnegative(),
  revenueVnd: vnd,
  unitsPerDay: z.number().nonnegative(),
  revenueVndPerDay: z.number().nonnegative(),
  /** The whole location's revenue per day over the same span. */
  locationRevenueVndPerDay: z.number().nonnegative(),
});

/** Before/after of the item an accepted menu change is about. */
export const RecommendationOutcome = z.object({
  itemId: z.string(),
  itemName: z.string(),
  before: SalesWindow,
  after: SalesWindow,
  /** True once the after window has its full length. */
  complete: z.boolean(),
  /** after ÷ before − 1 per day; null until a day passed, or when before had none. */
  unitsChange: z.number().nullable(),
  revenueChange: z.number().nullable(),
  locationRevenueChange: z.number().nullable(),
});

export const AiRecommendation = z.object({
  id: z.string().min(1).max(200),
  kind: z.string().min(1).max(50),
  title: z.string(),
  priority: Priority,
  reason: z.string(),
  evidence: z.array(z.object({ name: z.string(), value: z.number() })),
  status: RecommendationStatus,
  actedAt: z.iso.datetime({ offset: true }).nullish(),
  dismissReason: z.string().nullish(),
  outcome: RecommendationOutcome.nullish(),
});
export type AiRecommendation = z.infer<typeof AiRecommendation>;

export const AiRecommendationsAnswer = z.object({
  locationId: z.string(),
  trainedAt: z.string(),
  items: z.array(AiRecommendation),
});

/**
 * ActOnRecommendation: recorded (new), unchanged (the same action again), or a client mistake
 * that wrote nothing: unknown (no such recommendation) or conflict (already acted on the other way).
 */
export const AiRecommendationActionAnswer = z.object({
  locationId: z.string(),
  result: z.enum(["recorded", "unchanged", "unknown", "conflict"]),
  message: z.string().nullable(),
  item: AiRecommendation.nullable(),
});

export const AI_ANSWERS = {
  "ai.answer.recommendations": AiRecommendationsAnswer,
  "ai.answer.recommendation-action": AiRecommendationActionAnswer,
} as const;
