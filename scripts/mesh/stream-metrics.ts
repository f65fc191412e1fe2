/**
 * Consumer lag of the local mesh's Redis streams, for Prometheus: how many entries of each stream
 * each consumer group has not been delivered yet (`redis_stream_group_lag`), how many it was
 * delivered but has not acknowledged (`redis_stream_group_messages_pending`), and each stream's
 * length. In the cluster these come from redis_exporter (the chart runs it with
 * `--check-streams`, charts/lsp/templates/deps/redis-exporter.yaml); this serves the same names
 * and labels locally, so the alert rules and dashboards read one set of series everywhere.
 * Written here rather than run as redis_exporter itself: its Go module cannot be fetched on the
 * developers' machines (the module proxy refuses it), while prom-client and redis-cli are there.
 * Every figure is a count of stream entries.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import { promisify } from "node:util";
import { Gauge, Registry } from "prom-client";

const run = promisify(execFile);

/** One consumer group of one stream, as XINFO GROUPS reports it. */
export interface StreamGroup {
  stream: string;
  group: string;
  /** Entries of the stream not yet delivered to the group; null when Redis cannot tell. */
  lag: number | null;
  /** Entries delivered to the group's consumers and not acknowledged yet. */
  pending: number;
  consumers: number;
  /** The stream's length (XLEN). */
  length: number;
}

/**
 * Every group of every stream in one round trip: SCAN for stream keys, XINFO GROUPS on each.
 * `lag` is nil when Redis cannot compute it (entries deleted inside the unread range): cjson
 * encodes that as false.
 */
const GROUPS_SCRIPT = `
local out = {}
local cursor = "0"
repeat
  local page = redis.call("SCAN", cursor, "TYPE", "stream", "COUNT", 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    local length = redis.call("XLEN", key)
    for _, g in ipairs(redis.call("XINFO", "GROUPS", key)) do
      local f = {}
      for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
      out[#out + 1] = { stream = key, group = f["name"], lag = f["lag"], pending = f["pending"],
        consumers = f["consumers"], length = length }
    end
  end
until cursor == "0"
return cjson.encode(out)
`;

interface RawGroup {
  stream: string;
  group: string;
  lag: number | false;
  pending: number;
  consumers: number;
  length: number;
}

/** Reads every stream's consumer groups from the Redis on `port` (127.0.0.1). */
export async function readStreamGroups(port: number): Promise<StreamGroup[]> {
  const { stdout } = await run("redis-cli", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "EVAL",
    GROUPS_SCRIPT,
    "0",
  ]);
  const parsed = JSON.parse(stdout.trim()) as unknown;
  // cjson encodes an empty table as an object.
  if (!Array.isArray(parsed)) return [];
  return (parsed as RawGroup[]).map((g) => ({
    stream: g.stream,
    group: g.group,
    lag: typeof g.lag === "number" ? g.lag : null,
    pending: g.pending,
    consumers: g.consumers,
    length: g.length,
  }));
}

/**
 * `read`, shared by every caller while one is in flight: the gauges of one registry collect
 * concurrently on a scrape, and should cost one read of the source, not one each.
 */
export function onePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let reading: Promise<T> | undefined;
  return () =>
    (reading ??= read().finally(() => {
      reading = undefined;
    }));
}

/** A Prometheus registry whose every scrape reads the groups afresh (redis_exporter's names). */
export function streamMetricsRegistry(redisPort: number): Registry {
  const registry = new Registry();
  // One read per scrape, shared by the four gauges (prom-client collects them concurrently).
  const snapshot = onePerScrape(() => readStreamGroups(redisPort));
  const groupGauge = (name: string, help: string, value: (g: StreamGroup) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["db", "stream", "group"],
      registers: [registry],
      async collect() {
        const groups = await snapshot();
        this.reset();
        for (const g of groups) {
          const v = value(g);
          if (v !== null) this.set({ db: "db0", stream: g.stream, group: g.group }, v);
        }
      },
    });
  // Unknown lag is left out rather than reported as 0 (which would read as "caught up").
  groupGauge(
    "redis_stream_group_lag",
    "Entries of the stream not yet delivered to the consumer group",
    (g) => g.lag,
  );
  groupGauge(
    "redis_stream_group_messages_pending",
    "Entries delivered to the consumer group and not acknowledged yet",
    (g) => g.pending,
  );
  groupGauge("redis_stream_group_consumers", "Consumers of the consumer group", (g) => g.consumers);
  new Gauge({
    name: "redis_stream_length",
    help: "Entries in the stream",
    labelNames: ["db", "stream"],
    registers: [registry],
    async collect() {
      const groups = await snapshot();
      this.reset();
      for (const g of groups) this.set({ db: "db0", stream: g.stream }, g.length);
    },
  });
  return registry;
}

/**
 * GET /metrics: the registry's series, read afresh on each scrape; anything else 404. A source
 * that does not answer (Redis, or the Kafka broker: kafka-lag.ts) is a 503.
 */
export function lagMetricsServer(registry: Registry, source: string): http.Server {
  return http.createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"code":"NOT_FOUND"}}');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) =>
        res
          .writeHead(503, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "UNAVAILABLE", message: `${source}: ${String(err)}` } })),
    );
  });
}

/** The Redis streams' lag server (streamMetricsRegistry on `redisPort`). */
export function streamMetricsServer(redisPort: number): http.Server {
  return lagMetricsServer(streamMetricsRegistry(redisPort), "redis");
}
