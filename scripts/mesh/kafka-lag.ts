/**
 * Consumer lag on Kafka (LSP_PUBSUB=kafka): for every consumer group, how many events of each
 * topic were published after the offset the group last committed, read with kafka-clients' Admin
 * API (tools/kafka/ConsumerLag.java; the figures `kafka-consumer-groups.sh --describe` prints).
 * The Kafka counterpart of the Redis streams' XINFO GROUPS `lag` (stream-metrics.ts), in the same
 * shape, so that the chaos and soak runs print one lag figure whatever the engine.
 *
 * Dapr's Kafka consumer commits an offset once the app took the event (it marks the message after
 * the delivery succeeded), so `end - committed` counts what the group has not consumed yet, the
 * event in flight included. Kafka has no separate "delivered, not acknowledged" count: `pending`
 * is 0 here.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { Gauge, Registry } from "prom-client";
import { z } from "zod";
import { MeshError } from "./processes.js";
import { onePerScrape, type StreamGroup } from "./stream-metrics.js";

const run = promisify(execFile);

/** One partition of one topic as one consumer group sees it (a line of ConsumerLag.java). */
const PartitionLag = z.object({
  group: z.string(),
  topic: z.string(),
  partition: z.number().int().nonnegative(),
  /** The next offset the group will read (the last committed one). */
  committed: z.number().int(),
  /** The partition's end offset: the offset the next published event gets. */
  end: z.number().int().nonnegative(),
  /** Members of the group now (0: no consumer is connected). */
  members: z.number().int().nonnegative(),
});
export type PartitionLag = z.infer<typeof PartitionLag>;

/** Parses ConsumerLag.java's output: one JSON object per line (blank lines ignored). */
export function parseConsumerLag(stdout: string): PartitionLag[] {
  return stdout
    .split("\n")
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim() !== "")
    .map(({ line, i }) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        throw new MeshError(`ConsumerLag line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
      }
      const parsed = PartitionLag.safeParse(json);
      if (!parsed.success)
        throw new MeshError(`ConsumerLag line ${i + 1}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
      return parsed.data;
    });
}

/**
 * One row per group and topic, in the Redis streams' shape: `lag` sums the partitions' `end -
 * committed` (never below 0: a committed offset past the end only follows a truncated log),
 * `length` the partitions' end offsets (events ever published to the topic; retention is by age).
 */
export function groupLag(partitions: readonly PartitionLag[]): StreamGroup[] {
  const byKey = new Map<string, StreamGroup>();
  for (const p of partitions) {
    const key = `${p.group}\u0000${p.topic}`;
    const row = byKey.get(key) ?? {
      stream: p.topic,
      group: p.group,
      lag: 0,
      pending: 0,
      consumers: p.members,
      length: 0,
    };
    row.lag = (row.lag ?? 0) + Math.max(0, p.end - p.committed);
    row.length += p.end;
    byKey.set(key, row);
  }
  return [...byKey.values()].sort(
    (a, b) => a.stream.localeCompare(b.stream) || a.group.localeCompare(b.group),
  );
}

/**
 * ConsumerLag.java compiled once per version of its source, beside the Kafka libraries it is
 * compiled against (a single-file launch compiles it on every run: seconds of CPU, and a soak
 * samples every 30 s on a 2-core machine). Compiled into a fresh directory that is then renamed
 * into place, so that two processes compiling at once never read half-written classes.
 */
function consumerLagClasses(repo: string, libDir: string): string {
  const source = path.join(repo, "tools", "kafka", "ConsumerLag.java");
  const version = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 16);
  const classes = path.join(path.dirname(libDir), `consumer-lag-${version}`);
  if (existsSync(path.join(classes, "ConsumerLag.class"))) return classes;
  const fresh = mkdtempSync(`${classes}.tmp-`);
  try {
    execFileSync("javac", ["-cp", `${libDir}/*`, "-d", fresh, source], { stdio: "pipe" });
    renameSync(fresh, classes);
  } catch (err) {
    rmSync(fresh, { recursive: true, force: true });
    if (existsSync(path.join(classes, "ConsumerLag.class"))) return classes; // another process won
    const e = err as { stderr?: Buffer };
    throw new MeshError(
      `compiling tools/kafka/ConsumerLag.java failed: ${e.stderr?.toString() ?? String(err)}`,
    );
  }
  return classes;
}

/** Every group's lag on the broker at `brokers` (host:port), per group and topic. */
export async function readKafkaLag(repo: string, libDir: string, brokers: string): Promise<StreamGroup[]> {
  return groupLag(await readKafkaPartitions(repo, libDir, brokers));
}

/** Every group's committed offset and lag on the broker at `brokers`, per topic partition. */
export async function readKafkaPartitions(
  repo: string,
  libDir: string,
  brokers: string,
): Promise<PartitionLag[]> {
  const classes = consumerLagClasses(repo, libDir);
  const { stdout } = await run(
    "java",
    [
      "-Xmx64m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
      "-cp",
      `${libDir}/*${path.delimiter}${classes}`,
      "ConsumerLag",
      brokers,
    ],
    { timeout: 60_000 },
  );
  return parseConsumerLag(stdout);
}

/**
 * Kafka consumer lag for Prometheus under kafka-exporter's names and labels (the exporter the
 * chart runs when pub/sub is on Kafka: charts/lsp/templates/deps/kafka-exporter.yaml), so the
 * alert LspKafkaConsumerLagging reads the same series locally and in the cluster. Every figure
 * is a count of events (offsets). Each scrape reads the broker afresh through ConsumerLag.java:
 * a short JVM run (about a second of CPU), shared by the gauges of one scrape. Written here
 * rather than run as kafka-exporter itself for the reason stream-metrics.ts gives for Redis.
 */
export function kafkaLagRegistry(read: () => Promise<PartitionLag[]>): Registry {
  const registry = new Registry();
  const snapshot = onePerScrape(read);
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    samples: (partitions: PartitionLag[]) => [Record<string, string>, number][],
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const partitions = await snapshot();
        this.reset();
        for (const [labels, value] of samples(partitions)) this.set(labels, value);
      },
    });
  const lagOf = (p: PartitionLag) => Math.max(0, p.end - p.committed);
  const perPartition = (p: PartitionLag) => ({
    consumergroup: p.group,
    topic: p.topic,
    partition: String(p.partition),
  });
  gauge(
    "kafka_consumergroup_lag",
    "Events of the topic partition published after the consumer group's committed offset",
    ["consumergroup", "topic", "partition"],
    (ps) => ps.map((p) => [perPartition(p), lagOf(p)]),
  );
  gauge(
    "kafka_consumergroup_lag_sum",
    "Events of the topic not yet consumed by the consumer group, over its partitions",
    ["consumergroup", "topic"],
    (ps) => groupLag(ps).map((g) => [{ consumergroup: g.group, topic: g.stream }, g.lag ?? 0]),
  );
  gauge(
    "kafka_consumergroup_current_offset",
    "The consumer group's committed offset on the topic partition",
    ["consumergroup", "topic", "partition"],
    (ps) => ps.map((p) => [perPartition(p), p.committed]),
  );
  gauge("kafka_consumergroup_members", "Consumers connected in the consumer group", ["consumergroup"], (ps) =>
    [...new Map(ps.map((p) => [p.group, p.members])).entries()].map(([g, n]) => [{ consumergroup: g }, n]),
  );
  gauge(
    "kafka_topic_partition_current_offset",
    "The topic partition's end offset: events ever published to it",
    ["topic", "partition"],
    (ps) =>
      [...new Map(ps.map((p) => [`${p.topic}\u0000${p.partition}`, p] as const)).values()].map((p) => [
        { topic: p.topic, partition: String(p.partition) },
        p.end,
      ]),
  );
  return registry;
}
