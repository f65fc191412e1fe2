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

/**
 * What an applied event leaves in place of a report nobody has cached: "figures older than
 * `version` are stale". It is not a report (a reader misses on it), but it makes `put` refuse
 * every older report.
 */
interface Floor {
  version: number;
  floor: true;
}

const isFloor = (v: unknown): v is Floor =>
  typeof v === "object" && v !== null && (v as { floor?: unknown }).floor === true;

/**
 * Whether what the cache holds makes `value` pointless: a newer version, or the same version
 * already as a report (a report at a floor's version replaces the floor: it holds that event).
 */
const supersedes = (current: Versioned, value: Versioned) =>
  current.version > value.version ||
  (current.version === value.version && (!isFloor(current) || isFloor(value)));

/** The slice of the Dapr state API the cache uses (`stateStore` of @lsp/dapr; faked in tests). */
export interface StateApi {
  get: (key: string) => Promise<Response>;
  save: (items: unknown[]) => Promise<Response>;
  transaction: (operations: unknown[]) => Promise<Response>;
}

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
 *
 * An event that moves a report nobody has cached leaves a floor at its version (`advance`).
 * Without it, a reader that computed the report just before the event committed, and stored it
 * just after, kept the old figures in the cache for the whole TTL: nothing newer had been written
 * for `put` to compare with (CI saw a new restaurant's totals stay short for 60 s that way).
 */
export function reportCache(
  ports: SidecarPorts,
  log: Logger,
  state: StateApi = stateStore(ports, STORE, 1000),
) {
  async function get<T extends Versioned>(key: string): Promise<T | null> {
    try {
      const hit = await read<T | Floor>(state, key);
      const report = hit && !isFloor(hit.value) ? hit.value : null;
      lookups.inc({ result: report ? "hit" : "miss" });
      return report;
    } catch (err) {
      lookups.inc({ result: "error" });
      log.warn({ err: String(err), key }, "report cache unavailable");
      return null;
    }
  }

  /**
   * Stores `value` (compare-and-set) unless the cache holds the same or a newer version; `keep`
   * may decline to replace what is there (a floor that must stay one). Returns what it found.
   */
  async function storeNewer(
    key: string,
    value: Versioned,
    keep: (current: Versioned) => boolean = () => false,
  ): Promise<Versioned | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await read<Versioned>(state, key);
      if (current && (supersedes(current.value, value) || keep(current.value))) return current.value;
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
      if (res.ok) return current?.value ?? null;
      if (res.status !== 409 && res.status !== 500) throw new Error(`state save ${res.status}`);
    }
    return null;
  }

  /** Stores `value` unless the cache already holds the same or a newer version (or floor). */
  async function put<T extends Versioned>(key: string, value: T): Promise<void> {
    try {
      await storeNewer(key, value);
    } catch (err) {
      log.warn({ err: String(err), key }, "report cache write failed");
    }
  }

  /**
   * An event moved the report to `version`. Returns "warm" when a report is cached (the caller
   * recomputes it: events keep warm what readers read); otherwise leaves a floor at `version`, so
   * that no reader can store a report older than this event, and returns "cold".
   */
  async function advance(key: string, version: number): Promise<"warm" | "cold"> {
    try {
      const floor: Floor = { version, floor: true };
      const found = await storeNewer(key, floor, (current) => !isFloor(current));
      return found && !isFloor(found) ? "warm" : "cold";
    } catch (err) {
      log.warn({ err: String(err), key }, "report cache unavailable");
      return "cold";
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
  return { get, put, advance, drop };
}
export type ReportCache = ReturnType<typeof reportCache>;
