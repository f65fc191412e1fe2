import { z } from "zod";

/**
 * Feature flags per restaurant (issue 16), the contract between the one writer (auth, which keeps
 * them in the `flags` configuration store: its `feature_flags` table) and every app that reads
 * them (@lsp/flags): the catalogue, the items' shapes and keys, and the one evaluation rule.
 */

/** The flags the code knows: each key, what it gates, who may switch it, its global default. */
export const FLAG_CATALOGUE = {
  "ai.recommendations": {
    description: "AI recommendations on a location (off: an empty list, the AI actor is not asked).",
    ownerControllable: true,
    default: true,
  },
  "ai.forecast": {
    description: "AI demand forecast on a location (off: no forecast, the AI actor is not asked).",
    ownerControllable: true,
    default: true,
  },
  "payments.vnpay": {
    description:
      "VNPay payments (off: startPayment refuses VNPay, its webhook answers merchant not enabled).",
    ownerControllable: false,
    default: true,
  },
  "dashboard.preview": {
    description: "Dashboard preview fields (averageOrderVnd on live updates).",
    ownerControllable: true,
    default: false,
  },
  "edge.trusted_documents": {
    description: "The edge executes only trusted documents (persisted operations) for this restaurant.",
    ownerControllable: false,
    default: false,
  },
} as const satisfies Record<string, { description: string; ownerControllable: boolean; default: boolean }>;
export type FlagKey = keyof typeof FLAG_CATALOGUE;
export const FLAG_KEYS = Object.keys(FLAG_CATALOGUE) as FlagKey[];
export function isFlagKey(key: string): key is FlagKey {
  return Object.hasOwn(FLAG_CATALOGUE, key);
}

/** A flag's definition item (the item whose key is the flag's key). */
export const FlagDefinition = z.object({
  description: z.string().max(500),
  ownerControllable: z.boolean(),
  default: z.boolean(),
  /** On: the flag is off for everyone, whatever else says (an incident's first move). */
  killSwitch: z.boolean(),
  /** Enabled for this share of tenants (stable per tenant, `rolloutBucket`); null: the default. */
  rolloutPercent: z.number().int().min(0).max(100).nullable(),
});
export type FlagDefinition = z.infer<typeof FlagDefinition>;

/** A tenant or location rule item: on, off, or no rule (a rule is never deleted, so that the change notifies). */
export const RuleValue = z.enum(["on", "off", "inherit"]);
export type RuleValue = z.infer<typeof RuleValue>;

export type RuleScope = "tenant" | "location";

// Configuration keys allow [a-zA-Z0-9./_] only (the component refuses others), so a UUID is
// written without its dashes.
const compact = (id: string) => id.replaceAll("-", "").toLowerCase();
const expand = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** The item key of a flag's rule for one tenant or location. */
export function ruleItemKey(flag: string, scope: RuleScope, id: string): string {
  return `${flag}/${scope}/${compact(id)}`;
}

export type ParsedItemKey =
  { flag: string; kind: "definition" } | { flag: string; kind: RuleScope; id: string };

/** What an item key names; undefined for a key of no known shape. */
export function parseItemKey(itemKey: string): ParsedItemKey | undefined {
  const parts = itemKey.split("/");
  if (parts.length === 1 && parts[0]) return { flag: parts[0], kind: "definition" };
  const [flag, scope, hex] = parts;
  if (
    parts.length === 3 &&
    flag &&
    (scope === "tenant" || scope === "location") &&
    /^[0-9a-f]{32}$/.test(hex ?? "")
  )
    return { flag, kind: scope, id: expand(hex ?? "") };
  return undefined;
}

/**
 * The stable rollout bucket (0–99) of a tenant for a flag: FNV-1a (32-bit) of `flag:tenantId`.
 * Hand-written because it is eight lines and must cost nanoseconds per request (a crypto hash
 * costs microseconds); salted with the flag so that each flag's first 10 % are different tenants.
 * Raising a percentage only adds tenants: bucket < percent.
 */
export function rolloutBucket(flag: string, tenantId: string): number {
  // The hash of `${flag}:${tenantId}`, fed piece by piece: no string is built per request.
  let hash = fnv1a(0x811c9dc5, flag);
  hash = Math.imul(hash ^ 0x3a, 0x01000193); // ":"
  return (fnv1a(hash, tenantId) >>> 0) % 100;
}

function fnv1a(seed: number, text: string): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}

/** What decides one flag for one caller: the definition and the rules that apply to them. */
export interface FlagInputs {
  definition: FlagDefinition | undefined;
  tenantRule?: boolean | undefined;
  locationRule?: boolean | undefined;
}

/**
 * The one evaluation rule. In order: an unknown flag is off (deny by default); the kill switch
 * turns it off for everyone; a rule for the location, then for the tenant; the percentage
 * rollout (stable per tenant); the global default.
 */
export function evaluateFlag(flag: string, tenantId: string, inputs: FlagInputs): boolean {
  const { definition } = inputs;
  if (!definition || definition.killSwitch) return false;
  if (inputs.locationRule !== undefined) return inputs.locationRule;
  if (inputs.tenantRule !== undefined) return inputs.tenantRule;
  if (definition.rolloutPercent !== null) return rolloutBucket(flag, tenantId) < definition.rolloutPercent;
  return definition.default;
}
