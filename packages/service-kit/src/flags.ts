import type { DaprClient } from "@dapr/dapr";
import { z } from "zod";
import { subscribeConfiguration, type ConfigurationItems } from "./dapr.js";
import type { Logger } from "./logger.js";

/**
 * Feature flags per restaurant (issue 16). The flags live in a Dapr configuration store
 * (`flags`, PostgreSQL: auth's `feature_flags` table, see services/auth/README.md), one item per
 * definition and per tenant or location rule; every app that gates behaviour subscribes to the
 * store and evaluates in memory, per request, with `evaluateFlag`.
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

/** Who a flag is evaluated for. */
export interface FlagSubject {
  tenantId: string;
  locationId?: string | undefined;
}

export interface EvaluatedFlag {
  key: string;
  enabled: boolean;
  description: string;
  ownerControllable: boolean;
}

/** The flags' current state in memory, as a configuration store's items update it. */
export class FlagTable {
  private readonly definitions = new Map<string, FlagDefinition>();
  // Per scope, per flag, per id: lookups build no key string per request.
  private readonly rules = {
    tenant: new Map<string, Map<string, boolean>>(),
    location: new Map<string, Map<string, boolean>>(),
  };
  private readonly versions = new Map<string, number>();
  /** The definitions in key order, sorted again only after a definition changes. */
  private ordered: [string, FlagDefinition][] | undefined;
  private readonly listeners = new Set<(flags: ReadonlySet<string>) => void>();
  loaded = false;

  /**
   * Applies items of the store (a snapshot or a change); an item older than the one held is
   * dropped (a snapshot read while a change arrived). Listeners hear which flags changed.
   */
  apply(items: ConfigurationItems, log?: Logger): ReadonlySet<string> {
    const changed = new Set<string>();
    for (const [itemKey, item] of Object.entries(items)) {
      const parsed = parseItemKey(itemKey);
      const version = Number(item.version);
      if (!parsed || !Number.isFinite(version)) {
        log?.warn({ itemKey }, "feature flag item of unknown shape ignored");
        continue;
      }
      if (version <= (this.versions.get(itemKey) ?? -1)) continue;
      try {
        if (parsed.kind === "definition") {
          this.definitions.set(parsed.flag, FlagDefinition.parse(JSON.parse(item.value)));
          this.ordered = undefined;
        } else {
          const rule = RuleValue.parse(item.value);
          const byFlag = this.rules[parsed.kind];
          let byId = byFlag.get(parsed.flag);
          if (!byId) byFlag.set(parsed.flag, (byId = new Map()));
          if (rule === "inherit") byId.delete(parsed.id);
          else byId.set(parsed.id, rule === "on");
        }
      } catch (err) {
        log?.warn({ err, itemKey }, "malformed feature flag item ignored (the last good value stays)");
        continue;
      }
      this.versions.set(itemKey, version);
      changed.add(parsed.flag);
    }
    this.loaded = true;
    if (changed.size) for (const listener of this.listeners) listener(changed);
    return changed;
  }

  /** Whether `flag` is on for the subject: memory only, no I/O. */
  isEnabled(flag: string, subject: FlagSubject): boolean {
    return evaluateFlag(flag, subject.tenantId, {
      definition: this.definitions.get(flag),
      tenantRule: this.rules.tenant.get(flag)?.get(subject.tenantId),
      locationRule: subject.locationId ? this.rules.location.get(flag)?.get(subject.locationId) : undefined,
    });
  }

  /** Every defined flag, evaluated for the subject, in key order. */
  evaluateAll(subject: FlagSubject): EvaluatedFlag[] {
    this.ordered ??= [...this.definitions.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return this.ordered.map(([key, d]) => ({
      key,
      enabled: this.isEnabled(key, subject),
      description: d.description,
      ownerControllable: d.ownerControllable,
    }));
  }

  /** Called with the changed flags' keys after each applied change; returns the unsubscribe. */
  onChange(listener: (flags: ReadonlySet<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The configuration store's component name, the same locally and in the chart. */
export const FLAGS_STORE = "flags";

/**
 * The flags of the `flags` store, live: a table kept current by a configuration subscription
 * through the sidecar. `ready` resolves once the first snapshot is in (a readiness check).
 */
export function liveFlags(
  dapr: DaprClient,
  log: Logger,
): { table: FlagTable; ready: Promise<void>; stop: () => void } {
  const table = new FlagTable();
  const subscription = subscribeConfiguration(
    dapr,
    FLAGS_STORE,
    (items, source) => {
      const changed = table.apply(items, log);
      if (changed.size) log.info({ flags: [...changed], source }, "feature flags changed");
    },
    log,
  );
  return { table, ready: subscription.ready, stop: subscription.stop };
}
