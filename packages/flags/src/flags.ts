import { FlagDefinition, RuleValue, evaluateFlag, parseItemKey } from "@lsp/contracts";
import { subscribeConfiguration, type ConfigurationItems, type DaprClient } from "@lsp/dapr/configuration";
import type { Logger } from "@lsp/runtime";

/**
 * Feature flags per restaurant (issue 16), live. The flags live in a Dapr configuration store
 * (`flags`, PostgreSQL: auth's `feature_flags` table, see services/auth/README.md), one item per
 * definition and per tenant or location rule (their shapes and the evaluation rule are
 * @lsp/contracts' flags.ts); every app that gates behaviour subscribes to the store and evaluates
 * in memory, per request, with `evaluateFlag`.
 */

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
