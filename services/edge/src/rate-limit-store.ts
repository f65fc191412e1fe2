import type { Store } from "@envelop/rate-limiter";
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
