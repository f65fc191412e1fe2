import { Counter } from "prom-client";
import { registry, type Logger } from "@lsp/runtime";
import { stateStore, type SidecarPorts } from "@lsp/dapr";

/** Dapr state store (Redis) holding computed reports; components/local/cache.yaml. */
const STORE = "cache";
export const CACHE_TTL_SECONDS = 60;

const lookups = new Counter({
  name: "dashboard_cache_lookups_total",
  help: "Report cache lookups by result (hit rate = hit / (hit + miss))",
  labelNames: ["result"] as const,
  registers: [registry],
});

interface Versioned {
  version: number;
}

type StateApi = ReturnType<typeof stateStore>;

async function read<T>(state: StateApi, key: string): Promise<{ value: T; etag: string } | null> {
  const res = await state.get(key);
  if (res.status === 204 || res.status === 404) return null;
  if (!res.ok) throw new Error(`state get ${res.status}`);
  return { value: (await res.json()) as T, etag: res.headers.get("etag") ?? "" };
}

/**
 * A cache of versioned values (report of a location-day) in Redis through Dapr state, with a
 * 60 s TTL. Writes are compare-and-set on the ETag and never replace a newer version, so a slow
 * reader cannot put back figures older than what an event already wrote. Cache failures never
 * fail a request: the caller computes instead.
 */
export function reportCache(ports: SidecarPorts, log: Logger) {
  const state = stateStore(ports, STORE, 1000);
  async function get<T extends Versioned>(key: string): Promise<T | null> {
    try {
      const hit = await read<T>(state, key);
      lookups.inc({ result: hit ? "hit" : "miss" });
      return hit?.value ?? null;
    } catch (err) {
      lookups.inc({ result: "error" });
      log.warn({ err: String(err), key }, "report cache unavailable");
      return null;
    }
  }

  /** Stores `value` unless the cache already holds the same or a newer version. */
  async function put<T extends Versioned>(key: string, value: T): Promise<void> {
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const current = await read<T>(state, key);
        if (current && current.value.version >= value.version) return;
        const res = await state.save([
          {
            key,
            value,
            ...(current ? { etag: current.etag } : {}),
            // first-write: with an ETag, only if unchanged; without one, only if still absent.
            options: { concurrency: "first-write" },
            metadata: { ttlInSeconds: String(CACHE_TTL_SECONDS) },
          },
        ]);
        if (res.ok) return;
        if (res.status !== 409 && res.status !== 500) throw new Error(`state save ${res.status}`);
      }
    } catch (err) {
      log.warn({ err: String(err), key }, "report cache write failed");
    }
  }

  /** Whether a key is cached now (events refresh only what readers keep warm). */
  async function has(key: string): Promise<boolean> {
    try {
      return (await read(state, key)) !== null;
    } catch {
      return false;
    }
  }
  /** Forgets cached reports (after a rebuild), in transactions of at most 100 keys. */
  async function drop(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 100) {
      const res = await state.transaction(
        keys.slice(i, i + 100).map((key) => ({ operation: "delete", request: { key } })),
      );
      if (!res.ok) throw new Error(`state transaction ${res.status}`);
    }
  }
  return { get, put, has, drop };
}
export type ReportCache = ReturnType<typeof reportCache>;
