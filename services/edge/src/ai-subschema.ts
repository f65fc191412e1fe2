import { makeExecutableSchema } from "@graphql-tools/schema";
import { stitchingDirectives } from "@graphql-tools/stitching-directives";
import { z } from "zod";
import { AiRecommendationActionAnswer, AiRecommendationsAnswer, type AiRecommendation } from "@lsp/contracts";
import { AppError, FIRST_BUSINESS_DAY, LAST_BUSINESS_DAY, mergeKeys } from "@lsp/runtime";
import { VndScalar } from "@lsp/graphql";
import type { Identity } from "@lsp/identity";
import { invokeActor, type SidecarPorts } from "@lsp/dapr";
import type { FlagKey } from "@lsp/contracts";
import type { FlagSubject } from "@lsp/flags";
import type { EdgeContext } from "./context.js";
import {
  LastGood,
  degradedNote,
  menuPrices,
  rulePricing,
  ruleRecommendations,
  type CompetitorPrices,
} from "./ai-fallback.js";
import { countAiFallback, timeAiCall, type AiFailure } from "./metrics.js";
import { accessibleLocation } from "./location-root.js";

/**
 * Stand-in class for the Python actor type: the actor type is the class's name, and a call sends
 * its arguments as a JSON array (the JS SDK's ActorProxyBuilder convention; the Python host reads
 * that body as the method's one argument). Never instantiated: `actor` below types its proxy.
 */
class LocationInsights {
  GetSummary(_arg: Record<string, never>): Promise<unknown> {
    throw new Error("proxy only");
  }
  Forecast(_arg: { days: number; itemId?: string; tenantId: string }): Promise<unknown> {
    throw new Error("proxy only");
  }
  Anomalies(_arg: { from?: string; to?: string; tenantId: string }): Promise<unknown> {
    throw new Error("proxy only");
  }
  Recommendations(_arg: { tenantId: string }): Promise<unknown> {
    throw new Error("proxy only");
  }
  Pricing(_arg: { competitors: CompetitorPrices[]; tenantId: string }): Promise<unknown> {
    throw new Error("proxy only");
  }
  ActOnRecommendation(_arg: {
    id: string;
    action: "accepted" | "dismissed";
    reason?: string;
    userId?: string;
    tenantId: string;
  }): Promise<unknown> {
    throw new Error("proxy only");
  }
  SetHeavyRain(_arg: {
    businessDay: string;
    heavyRain: boolean;
    userId?: string;
    tenantId: string;
  }): Promise<unknown> {
    throw new Error("proxy only");
  }
}

const Summary = z.object({
  locationId: z.string(),
  ordersSeen: z.number().int(),
  revenueVnd: z.number().int(),
  lastEventAt: z.string().nullable(),
  lastTrainedAt: z.string().nullable().optional(),
  trainings: z.number().int().optional(),
});

const Priority = z.enum(["low", "medium", "high"]);
const ForecastAnswer = z.object({
  method: z.string(),
  target: z.string(),
  itemId: z.string().nullable(),
  historyDays: z.number().int(),
  trainedAt: z.string().nullable(),
  points: z.array(
    z.object({
      day: z.string(),
      value: z.number(),
      lower: z.number(),
      upper: z.number(),
      baseline: z.number(),
    }),
  ),
  backtest: z
    .object({
      origins: z.number().int(),
      horizonDays: z.number().int(),
      wape: z.number().nullable(),
      baselineWape: z.number().nullable(),
      mase: z.number().nullable(),
    })
    .nullable(),
});
// Recommendations and actions on them: contracts shared with the Python actor (packages/contracts).
const RecommendationsAnswer = AiRecommendationsAnswer;
const AnomaliesAnswer = z.object({
  trainedAt: z.string(),
  days: z.array(
    z.object({
      businessDay: z.string(),
      kind: z.string(),
      description: z.string(),
      severity: Priority,
      score: z.number(),
      revenueVnd: z.number().int(),
      expectedRevenueVnd: z.number().int(),
      orders: z.number().int(),
    }),
  ),
  hours: z.array(
    z.object({
      at: z.string(),
      hours: z.number().int(),
      kind: z.string(),
      description: z.string(),
      revenueVnd: z.number().int(),
      expectedRevenueVnd: z.number().int(),
    }),
  ),
  heavyRainDays: z.array(z.string()).default([]),
});
/** The actor's answer to a heavy-rain mark: `refused` (a day it cannot take) wrote nothing. */
const HeavyRainAnswer = z.object({
  result: z.enum(["recorded", "unchanged", "refused"]),
  message: z.string().nullish(),
  businessDay: z.string(),
  heavyRain: z.boolean(),
  heavyRainDays: z.number().int().min(0),
});
const PricingAnswer = z.object({
  items: z.array(
    z.object({
      itemId: z.string(),
      name: z.string(),
      ourPriceVnd: z.number().int().nullable(),
      competitorMedianVnd: z.number().int(),
      competitorCount: z.number().int(),
      positionPct: z.number().nullable(),
      move: z.enum(["raise", "lower", "hold"]),
      suggestedPriceVnd: z.number().int().nullable(),
      unitsPerDay: z.number().nullable(),
      priceResponse: z.object({
        estimated: z.boolean(),
        elasticity: z.number().nullable(),
        note: z.string(),
      }),
      expectedRevenueEffectVndPerDay: z.number().int().nullable(),
      reason: z.string(),
    }),
  ),
});

// Arguments, checked here so that a client mistake is BAD_USER_INPUT and never reaches an actor.
const day = z.iso
  .date()
  .refine(
    (d) => d >= FIRST_BUSINESS_DAY && d <= LAST_BUSINESS_DAY,
    `a business day from ${FIRST_BUSINESS_DAY} to ${LAST_BUSINESS_DAY}`,
  );
const ForecastArgs = z.object({ days: z.number().int().min(1).max(28), itemId: z.uuid().nullish() });
const AnomalyArgs = z.object({ from: day.nullish(), to: day.nullish() });
const HeavyRainArgs = z.object({ locationId: z.uuid(), businessDay: day, heavyRain: z.boolean() });
const PricingArgs = z.object({
  locationId: z.uuid(),
  competitors: z
    .array(
      z.object({
        itemId: z.uuid(),
        pricesVnd: z.array(z.number().int().positive().max(100_000_000)).min(1).max(50),
      }),
    )
    .min(1)
    .max(200),
});

/**
 * A recommendation's id at the edge names its location too (`<locationId>/<actor's id>`), so
 * that acceptRecommendation(id) finds the actor; the actor's own ids are `<kind>:<key>`.
 */
const RecommendationId = z
  .string()
  .max(300)
  .transform((s, ctx) => {
    const slash = s.indexOf("/");
    const locationId = z.uuid().safeParse(s.slice(0, slash));
    const own = s.slice(slash + 1);
    if (slash < 0 || !locationId.success || !/^[a-z_]{1,50}:[A-Za-z0-9:_-]{1,200}$/.test(own)) {
      ctx.addIssue({ code: "custom", message: "not a recommendation id" });
      return z.NEVER;
    }
    return { locationId: locationId.data, own };
  });
const AcceptArgs = z.object({ id: RecommendationId });
const DismissArgs = z.object({
  id: RecommendationId,
  reason: z.string().trim().min(1, "say why (1 to 500 characters)").max(500),
});

const recommendationView = (
  locationId: string,
  r: AiRecommendation | ReturnType<typeof ruleRecommendations>[number],
  degraded: boolean,
) => ({
  ...r,
  id: `${locationId}/${r.id}`,
  status: "status" in r ? r.status : "open",
  degraded,
});

function parseArgs<T>(schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    const where = first?.path.join(".") || "arguments";
    throw new AppError("BAD_USER_INPUT", `${where}: ${first?.message ?? "invalid"}`, {
      issues: z.treeifyError(parsed.error),
    });
  }
  return parsed.data;
}

const { stitchingDirectivesTypeDefs } = stitchingDirectives();

/**
 * The `ai` timeout of components/local/resiliency.yaml, enforced here (see the note there): the
 * whole answer, fallback included, stays within 1 s.
 */
const AI_CALL_BUDGET_MS = 800;
const ANSWER_BUDGET_MS = 1000;

/** The budget ran out (told apart from a failed call in edge_ai_call_duration_seconds). */
class DeadlineExceeded extends Error {}

function withDeadline<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
}

const typeDefs = /* GraphQL */ `
  ${stitchingDirectivesTypeDefs}
  "Amount in VND: an exact integer up to 2^53 − 1, as a JSON number (@lsp/graphql's VndScalar)."
  scalar Vnd
  "What the location's AI actor has learned from the events it received."
  type AiInsights {
    ordersSeen: Int!
    revenueVnd: Vnd!
    lastEventAt: String
    "When the location's models were last fitted (daily reminder, or on demand)."
    lastTrainedAt: String
  }
  enum AiPriority {
    low
    medium
    high
  }
  type ForecastPoint {
    "Business day (YYYY-MM-DD)."
    day: String!
    value: Float!
    "80 % prediction interval."
    lower: Float!
    upper: Float!
    "Seasonal naive: the same weekday last week."
    baseline: Float!
  }
  "Rolling-origin backtest on the location's own history (weekly origins, 7 days ahead)."
  type ForecastBacktest {
    origins: Int!
    horizonDays: Int!
    wape: Float
    baselineWape: Float
    mase: Float
  }
  type Forecast {
    "True when the AI did not answer in time and this is the edge's fallback."
    degraded: Boolean!
    note: String
    "e.g. ets-AAdA-log, seasonal-naive, or none (fallback without a model answer)."
    method: String!
    "revenueVnd (location) or units (one item)."
    target: String!
    itemId: ID
    historyDays: Int!
    trainedAt: String
    points: [ForecastPoint!]!
    backtest: ForecastBacktest
  }
  type Evidence {
    name: String!
    value: Float!
  }
  enum RecommendationStatus {
    open
    accepted
    dismissed
  }
  "An item's sales over a span of business days (days before the AI's history are not counted)."
  type SalesWindow {
    from: String!
    to: String!
    days: Int!
    units: Int!
    revenueVnd: Vnd!
    unitsPerDay: Float!
    revenueVndPerDay: Float!
    "The whole location's revenue per day over the same span (did the item move, or the restaurant?)."
    locationRevenueVndPerDay: Float!
  }
  "Before/after of the item an accepted menu change is about: 14 business days before the day it was accepted, and the whole days since (up to 14)."
  type RecommendationOutcome {
    itemId: ID!
    itemName: String!
    before: SalesWindow!
    after: SalesWindow!
    "True once 14 days after have passed."
    complete: Boolean!
    "after ÷ before − 1, per day; null until a day has passed or when before had none."
    unitsChange: Float
    revenueChange: Float
    locationRevenueChange: Float
  }
  type Recommendation {
    "The location's id, a slash and the recommendation's own id: what accept/dismiss take."
    id: ID!
    "menu_plowhorse, menu_puzzle, slow_mover, prep_quantity, promotion_timing; rule when degraded."
    kind: String!
    title: String!
    priority: AiPriority!
    reason: String!
    evidence: [Evidence!]!
    degraded: Boolean!
    "open until an owner or manager accepts or dismisses it."
    status: RecommendationStatus!
    actedAt: String
    dismissReason: String
    "Accepted menu changes (price or portion, promotion, a slow mover): the item's sales before and after."
    outcome: RecommendationOutcome
  }
  type DayAnomaly {
    businessDay: String!
    "revenue_drop_orders_flat, void_spike, revenue_below_forecast, revenue_above_forecast, unusual_day."
    kind: String!
    description: String!
    severity: AiPriority!
    score: Float!
    revenueVnd: Vnd!
    expectedRevenueVnd: Vnd!
    orders: Int!
  }
  type HourAnomaly {
    "Local start of the run of hours."
    at: String!
    hours: Int!
    kind: String!
    description: String!
    revenueVnd: Vnd!
    expectedRevenueVnd: Vnd!
  }
  type AnomalyReport {
    degraded: Boolean!
    note: String
    trainedAt: String
    days: [DayAnomaly!]!
    hours: [HourAnomaly!]!
    """
    Business days (within from/to) an owner or manager marked as heavy rain (setHeavyRain):
    once there are 4, the AI measures them against the location's rainy days, not its dry ones.
    """
    heavyRainDays: [String!]!
  }
  "A business day's heavy-rain mark, as the location's AI holds it now."
  type HeavyRainDay {
    locationId: ID!
    businessDay: String!
    heavyRain: Boolean!
    "How many days of the location are marked heavy rain now (the last 400 days)."
    heavyRainDays: Int!
  }
  enum PriceMove {
    raise
    lower
    hold
  }
  type PriceResponse {
    "False when the item's history cannot support an estimate; note says why."
    estimated: Boolean!
    elasticity: Float
    note: String!
  }
  type PricingItem {
    itemId: ID!
    name: String!
    ourPriceVnd: Vnd
    competitorMedianVnd: Vnd!
    competitorCount: Int!
    positionPct: Float
    move: PriceMove!
    suggestedPriceVnd: Vnd
    unitsPerDay: Float
    priceResponse: PriceResponse!
    "Only where the price response could be estimated."
    expectedRevenueEffectVndPerDay: Vnd
    reason: String!
  }
  type PricingAnalysis {
    locationId: ID!
    degraded: Boolean!
    note: String
    items: [PricingItem!]!
  }
  input CompetitorPriceInput {
    itemId: ID!
    "Competitors' prices for the same dish, VND (1–50 prices, each 1–100,000,000)."
    pricesVnd: [Vnd!]!
  }
  type Location @key(selectionSet: "{ id }") {
    id: ID!
    insights: AiInsights
    "Revenue (or one item's units) for the next days, with intervals, baseline and backtest."
    forecast(days: Int = 7, itemId: ID): Forecast!
    """
    Open recommendations first, then those accepted or dismissed (most recent first). Dismissing
    makes the AI show fewer of that kind for 60 days, at a lower priority.
    """
    recommendations: [Recommendation!]!
    "Odd days and hours between from and to (business days, inclusive)."
    anomalies(from: String, to: String): AnomalyReport!
  }
  type Query {
    "Stitching only (at most 200 ids, each a UUID)."
    _aiLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
    "Our prices against competitors' for the same dishes (1–200 items)."
    pricingAnalysis(locationId: ID!, competitors: [CompetitorPriceInput!]!): PricingAnalysis!
  }
  type Mutation {
    "Owners and managers: act on a recommendation (NOT_FOUND when the location's AI does not give it)."
    acceptRecommendation(id: ID!): Recommendation!
    "Owners and managers: the AI shows fewer of its kind for 60 days. reason: 1 to 500 characters."
    dismissRecommendation(id: ID!, reason: String!): Recommendation!
    """
    Owners and managers: mark (heavyRain: true) or unmark a business day of heavy rain, up to the
    location's current business day and 400 days back. Rain keeps guests home: without the mark,
    a rainy day looks like lost demand to anomaly detection. The AI retrains 20 s after the last mark.
    """
    setHeavyRain(locationId: ID!, businessDay: String!, heavyRain: Boolean!): HeavyRainDay!
  }
`;

/** The AI's writes (acting on a recommendation, marking rain) are owners' and managers'. */
function requireOwnerOrManager(who: Identity, what: string): void {
  if (who.role !== "owner" && who.role !== "manager")
    throw new AppError("FORBIDDEN", `only owners and managers ${what}`);
}

/** Only locations the caller may see (location-root.ts: auth owns locations; cached here). */
async function allowedLocation(ports: SidecarPorts, who: Identity, locationId: string): Promise<boolean> {
  return (await accessibleLocation(ports, who, locationId)) !== null;
}

/** The AI subschema lives in the edge: its resolvers call the ai service's actors over Dapr gRPC. */
/** A forecast with no points: switched off by its flag, or AI down with no model answer to reuse. */
function noForecast(
  itemId: string | null | undefined,
  why: { degraded: boolean; note: string; method: string },
) {
  return {
    ...why,
    target: itemId ? "units" : "revenueVnd",
    itemId: itemId ?? null,
    historyDays: 0,
    trainedAt: null,
    points: [],
    backtest: null,
  };
}

export function aiSubschema(
  ports: SidecarPorts,
  /** Feature flags (feature-flags.ts): ai.forecast and ai.recommendations, per tenant and location. */
  flagOn: (flag: FlagKey, subject: FlagSubject) => boolean,
) {
  // A method call on the proxy is one Dapr actor invocation over the sidecar's HTTP API.
  const actor = (locationId: string) =>
    new Proxy({} as LocationInsights, {
      get:
        (_target, method) =>
        (...args: unknown[]) =>
          invokeActor(ports, LocationInsights.name, locationId, String(method), args),
    });
  const lastForecast = new LastGood<z.infer<typeof ForecastAnswer>>();
  const lastRecommendations = new LastGood<z.infer<typeof RecommendationsAnswer>>();
  const lastAnomalies = new LastGood<z.infer<typeof AnomaliesAnswer>>();

  /** One actor call within the budget, parsed and timed; the failure and its reason when there is none. */
  async function ask<T>(
    method: string,
    schema: z.ZodType<T>,
    call: () => Promise<unknown>,
  ): Promise<{ ok: true; value: T } | { ok: false; reason: string; failure: AiFailure }> {
    const done = timeAiCall(method);
    try {
      const value = schema.parse(await withDeadline(call(), AI_CALL_BUDGET_MS));
      done("ok");
      return { ok: true, value };
    } catch (err) {
      const failure: AiFailure =
        err instanceof z.ZodError
          ? "unexpected_answer"
          : err instanceof DeadlineExceeded
            ? "timeout"
            : "unavailable";
      done(failure);
      const reason = err instanceof z.ZodError ? "unexpected answer" : String(err).slice(0, 200);
      return { ok: false, reason, failure };
    }
  }

  /**
   * Accept or dismiss: owners and managers of the location only; the actor answers a client
   * mistake (unknown id, the opposite action already taken) as a result, having written nothing.
   * No fallback: an action the AI did not record is UNAVAILABLE.
   */
  async function actOn(
    ctx: EdgeContext,
    id: { locationId: string; own: string },
    action: "accepted" | "dismissed",
    reason?: string,
  ) {
    const who = ctx.identity();
    requireOwnerOrManager(who, "act on recommendations");
    const notFound = () => new AppError("NOT_FOUND", `recommendation ${id.locationId}/${id.own} not found`);
    if (!(await allowedLocation(ports, who, id.locationId))) throw notFound();
    // Recommendations switched off for the location (the list is empty): nothing to act on.
    if (!flagOn("ai.recommendations", { tenantId: who.tenantId, locationId: id.locationId }))
      throw notFound();
    const answer = await ask("ActOnRecommendation", AiRecommendationActionAnswer, () =>
      actor(id.locationId).ActOnRecommendation({
        id: id.own,
        action,
        ...(reason ? { reason } : {}),
        ...(who.userId ? { userId: who.userId } : {}),
        tenantId: who.tenantId,
      }),
    );
    if (!answer.ok)
      throw new AppError("UNAVAILABLE", "the AI could not record this right now; try again", {
        cause: answer.reason,
      });
    const { result, item, message } = answer.value;
    if (result === "conflict") throw new AppError("CONFLICT", message ?? "already acted on");
    if (result === "unknown" || !item) throw notFound();
    return recommendationView(id.locationId, item, false);
  }

  return makeExecutableSchema<EdgeContext>({
    typeDefs,
    resolvers: {
      Vnd: VndScalar,
      Query: {
        _aiLocations: async (_: unknown, args: { ids: string[] }, ctx: EdgeContext) => {
          const ids = mergeKeys(args.ids);
          const who = ctx.identity();
          const allowed = await Promise.all(ids.map((id) => allowedLocation(ports, who, id)));
          return ids.map((id, i) => (allowed[i] ? { id } : null));
        },
        pricingAnalysis: async (_: unknown, raw: unknown, ctx: EdgeContext) => {
          const started = Date.now();
          const args = parseArgs(PricingArgs, raw);
          const who = ctx.identity();
          if (!(await allowedLocation(ports, who, args.locationId)))
            throw new AppError("NOT_FOUND", `location ${args.locationId} not found`);
          const answer = await ask("Pricing", PricingAnswer, () =>
            actor(args.locationId).Pricing({ competitors: args.competitors, tenantId: who.tenantId }),
          );
          if (answer.ok)
            return { locationId: args.locationId, degraded: false, note: null, items: answer.value.items };
          countAiFallback("Pricing", answer.failure, "rules");
          const left = ANSWER_BUDGET_MS - (Date.now() - started) - 50;
          const ours = await menuPrices(ports, ctx.forward(), args.locationId, left).catch(() => new Map());
          return {
            locationId: args.locationId,
            degraded: true,
            note: degradedNote(answer.reason),
            items: rulePricing(args.competitors, ours),
          };
        },
      },
      Mutation: {
        acceptRecommendation: (_: unknown, raw: unknown, ctx: EdgeContext) =>
          actOn(ctx, parseArgs(AcceptArgs, raw).id, "accepted"),
        dismissRecommendation: (_: unknown, raw: unknown, ctx: EdgeContext) => {
          const args = parseArgs(DismissArgs, raw);
          return actOn(ctx, args.id, "dismissed", args.reason);
        },
        setHeavyRain: async (_: unknown, raw: unknown, ctx: EdgeContext) => {
          const args = parseArgs(HeavyRainArgs, raw);
          const who = ctx.identity();
          requireOwnerOrManager(who, "mark heavy-rain days");
          if (!(await allowedLocation(ports, who, args.locationId)))
            throw new AppError("NOT_FOUND", `location ${args.locationId} not found`);
          // No fallback: a mark the AI did not record is UNAVAILABLE.
          const answer = await ask("SetHeavyRain", HeavyRainAnswer, () =>
            actor(args.locationId).SetHeavyRain({
              businessDay: args.businessDay,
              heavyRain: args.heavyRain,
              ...(who.userId ? { userId: who.userId } : {}),
              tenantId: who.tenantId,
            }),
          );
          if (!answer.ok)
            throw new AppError("UNAVAILABLE", "the AI could not record this right now; try again", {
              cause: answer.reason,
            });
          const { result, message, businessDay, heavyRain, heavyRainDays } = answer.value;
          // The day is outside what the location's AI takes (after its business day, too old, or
          // no orders yet): the caller's to change, and nothing was written.
          if (result === "refused")
            throw new AppError("BAD_USER_INPUT", `businessDay: ${message ?? "refused"}`);
          return { locationId: args.locationId, businessDay, heavyRain, heavyRainDays };
        },
      },
      Location: {
        insights: async (loc: { id: string }) => {
          // No fallback here: a missing summary is UNAVAILABLE (timed, never counted as a fallback).
          const answer = await ask("GetSummary", Summary, () => actor(loc.id).GetSummary({}));
          if (answer.ok) return answer.value;
          throw new AppError("UNAVAILABLE", "AI insights are unavailable right now", {
            cause: answer.reason,
          });
        },
        forecast: async (loc: { id: string }, raw: unknown, ctx: EdgeContext) => {
          const args = parseArgs(ForecastArgs, raw);
          if (!flagOn("ai.forecast", { tenantId: ctx.identity().tenantId, locationId: loc.id }))
            return noForecast(args.itemId, {
              degraded: false,
              note: "switched off for this restaurant (feature flag ai.forecast)",
              method: "disabled",
            });
          const key = `${loc.id}/${args.days}/${args.itemId ?? ""}`;
          const answer = await ask("Forecast", ForecastAnswer, () =>
            actor(loc.id).Forecast({
              days: args.days,
              ...(args.itemId ? { itemId: args.itemId } : {}),
              tenantId: ctx.identity().tenantId,
            }),
          );
          if (answer.ok) {
            lastForecast.remember(key, answer.value);
            return { ...answer.value, degraded: false, note: null };
          }
          const cached = lastForecast.recall(key);
          countAiFallback("Forecast", answer.failure, cached ? "last_good" : "rules");
          if (cached)
            return { ...cached.value, degraded: true, note: degradedNote(answer.reason, cached.at) };
          return noForecast(args.itemId, {
            degraded: true,
            note: degradedNote(answer.reason),
            method: "none",
          });
        },
        recommendations: async (loc: { id: string }, _args: unknown, ctx: EdgeContext) => {
          // Off: an empty list, and the actor is not asked.
          if (!flagOn("ai.recommendations", { tenantId: ctx.identity().tenantId, locationId: loc.id }))
            return [];
          const answer = await ask("Recommendations", RecommendationsAnswer, () =>
            actor(loc.id).Recommendations({ tenantId: ctx.identity().tenantId }),
          );
          if (answer.ok) {
            lastRecommendations.remember(loc.id, answer.value);
            return answer.value.items.map((r) => recommendationView(loc.id, r, false));
          }
          const cached = lastRecommendations.recall(loc.id);
          countAiFallback("Recommendations", answer.failure, cached ? "last_good" : "rules");
          if (cached) return cached.value.items.map((r) => recommendationView(loc.id, r, true));
          return ruleRecommendations(answer.reason).map((r) => recommendationView(loc.id, r, true));
        },
        anomalies: async (loc: { id: string }, raw: unknown, ctx: EdgeContext) => {
          const args = parseArgs(AnomalyArgs, raw);
          const key = `${loc.id}/${args.from ?? ""}/${args.to ?? ""}`;
          const answer = await ask("Anomalies", AnomaliesAnswer, () =>
            actor(loc.id).Anomalies({
              ...(args.from ? { from: args.from } : {}),
              ...(args.to ? { to: args.to } : {}),
              tenantId: ctx.identity().tenantId,
            }),
          );
          if (answer.ok) {
            lastAnomalies.remember(key, answer.value);
            return { ...answer.value, degraded: false, note: null };
          }
          const cached = lastAnomalies.recall(key);
          countAiFallback("Anomalies", answer.failure, cached ? "last_good" : "rules");
          if (cached)
            return { ...cached.value, degraded: true, note: degradedNote(answer.reason, cached.at) };
          return {
            degraded: true,
            note: degradedNote(answer.reason),
            trainedAt: null,
            days: [],
            hours: [],
            heavyRainDays: [],
          };
        },
      },
    },
  });
}
