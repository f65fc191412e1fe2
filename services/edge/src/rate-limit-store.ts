import type { Store } from "@envelop/rate-limiter";
import { LRUCache } from "lru-cache";
import { stateStore, type SidecarPorts } from "@lsp/dapr";

/** The part of the Dapr state API the store uses (@lsp/dapr's `stateStore`). */
export interface StateApi {
  get: (key: string) => Promise<Response>;
  save: (items: unknown[]) => Promise<Response>;
}

type Identity = Parameters<Store["getForIdentity"]>[0];

/**
 * Per-caller rate-limit windows kept in the `cache` state store (Redis) instead of each edge
 * replica's memory, so a caller's budget is one across replicas (EDGE_RATE_LIMIT_STORE=shared).
 * Each window is one key holding its call timestamps, expiring with the window (ttlInSeconds).
 * Read-modify-write without an ETag: two replicas counting the same caller in the same instant
 * may each miss the other's call, so the shared count can lag by the calls in flight — a limit
 * of 600 a minute is still one limit, not one per replica. A store that cannot be reached counts
 * nothing rather than refusing every caller (the limits protect the mesh; an outage of Redis
 * must not lock every client out).
 */
export class SharedRateLimitStore implements Store {
  constructor(private readonly state: StateApi) {}

  private key(identity: Identity): string {
    return `ratelimit|${identity.contextIdentity}|${identity.fieldIdentity}`;
  }

  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    try {
      const res = await this.state.get(this.key(identity));
      if (res.status === 204 || !res.ok) return [];
      const body: unknown = await res.json();
      return Array.isArray(body) ? body.filter((t): t is number => typeof t === "number") : [];
    } catch {
      return [];
    }
  }

  async setForIdentity(identity: Identity, timestamps: readonly number[], windowMs?: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil((windowMs ?? 60_000) / 1000));
    try {
      await this.state.save([
        { key: this.key(identity), value: timestamps, metadata: { ttlInSeconds: String(ttl) } },
      ]);
    } catch {
      // counted nowhere this once (see the class comment)
    }
  }
}

export function sharedRateLimitStore(ports: SidecarPorts): SharedRateLimitStore {
  return new SharedRateLimitStore(stateStore(ports, "cache", 500));
}

/**
 * Per-caller rate-limit windows in this replica's memory (EDGE_RATE_LIMIT_STORE=memory), in place
 * of @envelop/rate-limiter's InMemoryStore, which copies its whole state (every caller it ever
 * saw) on each call and forgets no one: per-request work growing with the number of callers, and
 * memory with every client address. Here an LRU bounded by entries and bytes, each entry expiring
 * with its window, and each caller's list at most the `maxCalls` newest timestamps: all the
 * limiter's decision needs (when `maxCalls` calls are in the window the limit is reached, whatever
 * came before them; the list is chronological), so a caller hammering past its limit, whose
 * refused calls count too, does not grow its list. A caller pushed out of a full LRU (the least
 * recent of 100,000 windows) starts a fresh window.
 */
export class MemoryRateLimitStore implements Store {
  private readonly windows: LRUCache<string, readonly number[]>;

  constructor(
    private readonly maxCalls: number,
    bounds: { maxEntries: number; maxBytes: number } = { maxEntries: 100_000, maxBytes: 32 * 1024 * 1024 },
  ) {
    this.windows = new LRUCache({
      max: bounds.maxEntries,
      maxSize: bounds.maxBytes,
      // A double per timestamp, plus the key and the entry's own bookkeeping (estimate).
      sizeCalculation: (timestamps, key) => 8 * timestamps.length + 2 * key.length + 64,
    });
  }

  private key(identity: Identity): string {
    return `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
  }

  getForIdentity(identity: Identity): readonly number[] {
    return this.windows.get(this.key(identity)) ?? [];
  }

  setForIdentity(identity: Identity, timestamps: readonly number[], windowMs?: number): void {
    const kept = timestamps.length > this.maxCalls ? timestamps.slice(-this.maxCalls) : timestamps;
    this.windows.set(this.key(identity), kept, windowMs ? { ttl: windowMs } : {});
  }
}
