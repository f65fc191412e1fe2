import { LRUCache } from "lru-cache";
import { z } from "zod";
import { invokeService, type SidecarPorts } from "@lsp/dapr";

/**
 * What the edge answers when the AI actors do not answer within their budget: clearly flagged
 * `degraded`, built by rules from what the edge can still get (its last good AI answer for the
 * same question, the menu prices from sales), never a hang and never an error for the owner.
 */

/** Last good answers, per question; kept small (owners ask about few locations at a time). */
export class LastGood<T> {
  // A bounded LRU (lru-cache, as every cache of the edge): the least recently remembered go first.
  private readonly entries: LRUCache<string, { at: number; value: T }>;
  constructor(max = 2000) {
    this.entries = new LRUCache({ max });
  }

  remember(key: string, value: T): void {
    this.entries.set(key, { at: Date.now(), value });
  }

  recall(key: string): { at: number; value: T } | undefined {
    return this.entries.get(key);
  }
}

export function degradedNote(reason: string, cachedAt?: number): string {
  const base = `AI service unavailable (${reason}); rule-based fallback`;
  return cachedAt === undefined
    ? base
    : `${base}: last model answer from ${new Date(cachedAt).toISOString()}`;
}

/** Recommendations that hold for any location, said as rules, when no model answer is at hand. */
export function ruleRecommendations(reason: string) {
  const evidence: { name: string; value: number }[] = [];
  const note = degradedNote(reason);
  return [
    {
      id: "rule:compare-last-week",
      kind: "rule",
      title: "So sánh doanh thu hôm nay với cùng ngày tuần trước",
      priority: "medium" as const,
      reason: `Quy tắc chung khi AI tạm thời không trả lời. ${note}.`,
      evidence,
      degraded: true,
    },
    {
      id: "rule:prep-like-last-week",
      kind: "rule",
      title: "Chuẩn bị nguyên liệu theo lượng bán cùng ngày tuần trước",
      priority: "low" as const,
      reason: `Quy tắc chung khi AI tạm thời không trả lời. ${note}.`,
      evidence,
      degraded: true,
    },
  ];
}

const SalesMenu = z.object({
  data: z.object({
    _salesLocations: z.array(
      z
        .object({ menu: z.array(z.object({ id: z.string(), name: z.string(), priceVnd: z.number() })) })
        .nullable(),
    ),
  }),
});

/** Our menu prices from sales (one call, bounded by what is left of the budget). */
export async function menuPrices(
  ports: SidecarPorts,
  /** The caller's forwarding headers (its own token): sales checks its scope itself. */
  caller: Record<string, string>,
  locationId: string,
  timeoutMs: number,
): Promise<Map<string, { name: string; priceVnd: number }>> {
  const res = await invokeService(ports, "sales", "graphql", {
    body: JSON.stringify({
      query: "query($ids:[ID!]!){ _salesLocations(ids:$ids){ menu { id name priceVnd } } }",
      variables: { ids: [locationId] },
    }),
    headers: caller,
    timeoutMs: Math.max(1, timeoutMs),
  });
  const body = SalesMenu.parse(await res.json());
  return new Map((body.data._salesLocations[0]?.menu ?? []).map((m) => [m.id, m]));
}

export interface CompetitorPrices {
  itemId: string;
  pricesVnd: number[];
}

/** Position against the competitors' median and the same move rule as the model, without any
 * price-response estimate (that needs the AI's history of the item). */
export function rulePricing(
  competitors: CompetitorPrices[],
  ours: Map<string, { name: string; priceVnd: number }>,
) {
  return competitors.map((c) => {
    const sorted = [...c.pricesVnd].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
    const item = ours.get(c.itemId);
    const base = {
      itemId: c.itemId,
      name: item?.name ?? c.itemId,
      ourPriceVnd: item?.priceVnd ?? null,
      competitorMedianVnd: Math.round(median),
      competitorCount: c.pricesVnd.length,
      unitsPerDay: null,
      priceResponse: {
        estimated: false,
        elasticity: null,
        note: "AI unavailable: the item's price response was not consulted",
      },
      expectedRevenueEffectVndPerDay: null,
    };
    if (!item)
      return {
        ...base,
        positionPct: null,
        move: "hold",
        suggestedPriceVnd: null,
        reason: "our price is unknown",
      };
    const position = item.priceVnd / median - 1;
    const pct = Math.round(position * 1000) / 10;
    if (position > 0.15)
      return {
        ...base,
        positionPct: pct,
        move: "lower",
        suggestedPriceVnd: Math.round((median * 1.05) / 1000) * 1000,
        reason: `${pct}% above the competitors' median (rule: more than 15% above)`,
      };
    if (position < -0.1)
      return {
        ...base,
        positionPct: pct,
        move: "raise",
        suggestedPriceVnd: Math.round((median * 0.95) / 1000) * 1000,
        reason: `${pct}% below the competitors' median (rule: more than 10% below)`,
      };
    return {
      ...base,
      positionPct: pct,
      move: "hold",
      suggestedPriceVnd: item.priceVnd,
      reason: "in line with the market",
    };
  });
}
