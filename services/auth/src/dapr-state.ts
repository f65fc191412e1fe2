import { AppError } from "@lsp/runtime";
import { stateStore, type SidecarPorts } from "@lsp/dapr";

/**
 * A small typed view of the Dapr state API (sidecar HTTP), with the two things OTPs and rate
 * limits need that the SDK makes awkward: per-item TTL (`ttlInSeconds`) and ETags
 * (first-write-wins), so that two concurrent tries cannot both pass a counter check.
 */
export interface StateItem<T> {
  value: T;
  etag: string;
}

export class DaprState {
  private readonly api: ReturnType<typeof stateStore>;

  constructor(ports: SidecarPorts, store: string) {
    this.api = stateStore(ports, store);
  }

  async get<T>(key: string): Promise<StateItem<T> | undefined> {
    const res = await this.api.get(key);
    if (res.status === 204) return undefined;
    if (!res.ok) throw new AppError("UNAVAILABLE", `state store answered ${res.status}`);
    const text = await res.text();
    if (!text) return undefined;
    return { value: JSON.parse(text) as T, etag: res.headers.get("etag") ?? "" };
  }

  /**
   * Saves `value`; with `etag` only if nobody changed it since (false when someone did). A new
   * key is created only if absent when `etag` is "" (first write wins).
   */
  async set<T>(key: string, value: T, opts: { ttlSeconds?: number; etag?: string } = {}): Promise<boolean> {
    const item = {
      key,
      value,
      ...(opts.etag ? { etag: opts.etag } : {}),
      ...(opts.etag !== undefined ? { options: { concurrency: "first-write" } } : {}),
      ...(opts.ttlSeconds
        ? { metadata: { ttlInSeconds: String(Math.max(1, Math.ceil(opts.ttlSeconds))) } }
        : {}),
    };
    const res = await this.api.save([item]);
    if (res.ok) return true;
    // 409: the ETag no longer matches (someone else wrote first).
    if (res.status === 409) return false;
    throw new AppError("UNAVAILABLE", `state save failed (${res.status})`);
  }

  async delete(key: string): Promise<void> {
    const res = await this.api.delete(key);
    if (!res.ok) throw new AppError("UNAVAILABLE", `state delete failed (${res.status})`);
  }

  /**
   * Adds one to a fixed-window counter and returns the new count (the window is the key's TTL).
   * Retries on a concurrent change, so that N parallel calls count N.
   */
  async increment(key: string, windowSeconds: number): Promise<number> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.get<{ n: number }>(key);
      const n = (current?.value.n ?? 0) + 1;
      if (await this.set(key, { n }, { ttlSeconds: windowSeconds, etag: current?.etag ?? "" })) return n;
    }
    throw new AppError("UNAVAILABLE", "counter is too contended");
  }
}
