/**
 * Pub/sub on Kafka for the local mesh (LSP_PUBSUB=kafka; the chart's dapr.pubsub.type=kafka):
 * a single-node KRaft broker (combined broker and controller, tools/kafka/) started as
 * infrastructure beside PostgreSQL and Redis, and the run's `pubsub` and `pubsub-fanout`
 * components rewritten as `pubsub.kafka` with the same names, scopes and topic allow-lists.
 * Redis still runs: the `cache` state store and the actors' placement need it, only the event
 * streams move. Default is Redis; nothing here runs without LSP_PUBSUB=kafka.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments, type Document, type YAMLSeq } from "yaml";
import { PUBSUB, PUBSUB_FANOUT } from "./access.js";
import { MeshError, cachedToolDir, startProcess, tcpOpen, waitFor, type Managed } from "./processes.js";

export const PUBSUB_ENGINES = ["redis", "kafka"] as const;
export type PubsubEngine = (typeof PUBSUB_ENGINES)[number];

/** LSP_PUBSUB: `redis` (default, also when unset or empty) or `kafka`; anything else is refused. */
export function pubsubEngine(value: string | undefined): PubsubEngine {
  const v = (value ?? "").trim();
  if (v === "") return "redis";
  if ((PUBSUB_ENGINES as readonly string[]).includes(v)) return v as PubsubEngine;
  throw new MeshError(`LSP_PUBSUB: "${v}" is not one of ${PUBSUB_ENGINES.join(", ")}`);
}

/** The engine of a running mesh, from its processes (mesh.json): a broker among them is Kafka. */
export function pubsubEngineOf(processes: readonly { role: string }[]): PubsubEngine {
  return processes.some((p) => p.role === "kafka") ? "kafka" : "redis";
}

/**
 * Whether a sidecar runs Dapr's app health check (`--enable-app-health-check`; the chart's
 * `dapr.io/enable-app-health-check` follows the same rule). On Redis it does: while an app is down
 * its subscriptions pause and the events wait in the stream. On Kafka it does not, because the
 * pause and resume are what stalls Dapr 1.18.1's Kafka consumer (docs/kafka.md, "Why the app
 * health check is off on Kafka"): the component keys its handlers by topic name only, and the
 * paused subscription's teardown, which runs in a goroutine of its own once its context is
 * cancelled, can run after the resumed subscription registered the same topic; it then deletes
 * the new registration and reloads the consumer group without that topic, so nothing reads it
 * until the sidecar restarts. Without the health check nothing pauses: a delivery to an app that
 * is down is retried in place (the resiliency policy, then the Kafka component's own retries)
 * until the restarted app takes it.
 */
export function appHealthCheckEnabled(engine: PubsubEngine): boolean {
  return engine !== "kafka";
}

/** Where tools/kafka/build.sh cached the broker's jars; a clear error when they were never resolved. */
export function kafkaLibDir(repo: string): string {
  if (!hasJava())
    throw new MeshError(
      "LSP_PUBSUB=kafka needs a Java 17 JDK (`java`, `javac` on PATH): run `npm run setup`",
    );
  return cachedToolDir(
    repo,
    "kafka",
    "the Kafka broker is not resolved for this pin: run `npm run setup` (or bash tools/kafka/build.sh)",
  );
}

/**
 * Whether a Java 17 JDK answers (`java` runs the broker; `javac`'s compiler module runs
 * tools/kafka/CreateTopics.java as a single-file program). The Kafka e2e test skips without one.
 */
export function hasJava(): boolean {
  try {
    execFileSync("java", ["-version"], { stdio: "ignore" });
    execFileSync("javac", ["-version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates every topic of access.yaml the broker lacks (tools/kafka/CreateTopics.java), before any
 * sidecar subscribes: Dapr's consumer fails on a topic that does not exist yet and, once the first
 * publish creates it, a fan-out group starting at the newest offset would miss that first event
 * (on Redis the launcher makes the streams and groups beforehand, fanout.ts).
 */
export function createKafkaTopics(
  repo: string,
  libDir: string,
  brokers: string,
  topics: readonly string[],
): void {
  try {
    execFileSync(
      "java",
      javaArgs(libDir, path.join(repo, "tools", "kafka", "CreateTopics.java"), [brokers, ...topics]),
      { stdio: "pipe" },
    );
  } catch (err) {
    const e = err as { stderr?: Buffer };
    throw new MeshError(
      `creating the Kafka topics failed: ${e.stderr?.toString().slice(-2000) ?? String(err)}`,
    );
  }
}

export interface KafkaPorts {
  /** Clients (the sidecars): PLAINTEXT on 127.0.0.1. */
  broker: number;
  /** The KRaft controller's listener (the broker itself is its only voter). */
  controller: number;
}

/**
 * server.properties of a single-node KRaft cluster. The internal topics get one partition and
 * one replica (a single broker cannot hold more; 50 offsets partitions cost seconds at start).
 * Retention is Kafka's default 7 days, the same age as the Redis streams' streamTTL: no unread
 * event younger than that is dropped. Topics are created on first use (auto.create.topics.enable,
 * Kafka's default), with one partition: order is kept per topic, as a Redis stream keeps it.
 */
export function brokerProperties(dataDir: string, ports: KafkaPorts): string {
  const props: Record<string, string | number> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@127.0.0.1:${ports.controller}`,
    listeners: `PLAINTEXT://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${ports.broker}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "log.dirs": path.join(dataDir, "logs"),
    "auto.create.topics.enable": "true",
    "num.partitions": 1,
    "log.retention.hours": 168,
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 1,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    // A consumer group's first member gets its partitions at once (default: waits 3 s for more).
    "group.initial.rebalance.delay.ms": 0,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n")
    .concat("\n");
}

/**
 * JVM settings: a small heap (the broker holds a few topics of small events) and the serial
 * collector (one GC thread, less memory than G1 on a 2-core machine). SLF4J's simple logger at
 * WARN, except the line that says the server started.
 */
const JVM_FLAGS = [
  "-Xms64m",
  "-Xmx256m",
  "-XX:+UseSerialGC",
  "-Djava.awt.headless=true",
  "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
  "-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info",
];

function javaArgs(libDir: string, mainClass: string, args: string[]): string[] {
  return [...JVM_FLAGS, "-cp", `${libDir}/*`, mainClass, ...args];
}

/**
 * A new cluster id: a Kafka Uuid, 16 random bytes in base64url without padding, never starting
 * with "-". Kafka's own Uuid.randomUuid() skips those too: the storage tool's argument parser
 * reads `-t -abc…` as an option and the format fails (CI met one of these 1-in-64 ids).
 */
export function kafkaClusterId(random: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = random().toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/**
 * Starts the broker on `dataDir` (formatting its KRaft storage on the first start, as
 * `kafka-storage.sh format` does) and resolves once it accepts connections: a KRaft broker opens
 * its client listener only after it has caught up with the metadata log and registered.
 */
export async function startKafka(
  libDir: string,
  dataDir: string,
  ports: KafkaPorts,
  logDir: string,
): Promise<Managed> {
  mkdirSync(dataDir, { recursive: true });
  const config = path.join(dataDir, "server.properties");
  writeFileSync(config, brokerProperties(dataDir, ports));
  if (!existsSync(path.join(dataDir, "logs", "meta.properties"))) {
    const clusterId = kafkaClusterId();
    try {
      execFileSync(
        "java",
        javaArgs(libDir, "kafka.tools.StorageTool", ["format", "-t", clusterId, "-c", config]),
        { stdio: "pipe" },
      );
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer };
      throw new MeshError(
        `formatting Kafka storage in ${dataDir} failed: ${e.stderr?.toString() ?? ""}${e.stdout?.toString().slice(-2000) ?? String(err)}`,
      );
    }
  }
  const proc = startProcess("kafka", "java", javaArgs(libDir, "kafka.Kafka", [config]), {
    cwd: dataDir,
    logDir,
  });
  await waitFor("Kafka", () => tcpOpen(ports.broker), { timeoutMs: 90_000, process: proc });
  return proc;
}

/**
 * The Kafka settings of the two pub/sub components. `pubsub`: one consumer group per app (Dapr's
 * default consumerID, the app id), starting at the oldest offset when the group is new, so that
 * events published before an app's first subscription (an order taken while the dashboard
 * starts) are read, as Redis's group made at the stream's start reads them. `pubsub-fanout`: one
 * group per replica (Dapr fills {podName} from POD_NAME), starting at the newest offset: a new
 * replica reads what is published from its start on (Redis needs the launcher to make that
 * group at the stream's end; Kafka's initialOffset does it). A replica that comes back under the
 * same name resumes its group where it left off. Same values as the chart's dapr.pubsub.type=kafka.
 */
export function kafkaMetadata(component: string, brokers: string): { name: string; value: string }[] {
  const common = [
    { name: "brokers", value: brokers },
    { name: "authType", value: "none" },
  ];
  if (component === PUBSUB_FANOUT)
    return [
      ...common,
      { name: "consumerGroup", value: "{podName}" },
      { name: "initialOffset", value: "newest" },
    ];
  return [...common, { name: "initialOffset", value: "oldest" }];
}

/** Metadata the components carry whatever the engine: the topic scopes from access.yaml. */
const SCOPE_KEYS = new Set(["allowedTopics", "protectedTopics", "publishingScopes", "subscriptionScopes"]);

/**
 * Rewrites the rendered `pubsub` and `pubsub-fanout` (in `file`, as renderComponents wrote them
 * from components/local/pubsub.yaml) as `pubsub.kafka`: the engine's settings change, the names,
 * the component scopes and the topic scope metadata stay as they were rendered.
 */
export function useKafkaPubsub(file: string, brokers: string): void {
  const docs = parseAllDocuments(readFileSync(file, "utf8")) as Document[];
  const rewritten = new Set<string>();
  for (const doc of docs) {
    const name = String(doc.getIn(["metadata", "name"]));
    if (doc.get("kind") !== "Component" || (name !== PUBSUB && name !== PUBSUB_FANOUT)) continue;
    const metadata = doc.getIn(["spec", "metadata"]) as YAMLSeq;
    const scopes = (metadata.toJSON() as { name: string; value: string }[]).filter((m) =>
      SCOPE_KEYS.has(m.name),
    );
    if (scopes.length !== SCOPE_KEYS.size)
      throw new MeshError(`${file}: ${name} has no topic scopes to carry over to Kafka`);
    doc.setIn(["spec", "type"], "pubsub.kafka");
    doc.setIn(["spec", "metadata"], doc.createNode([...kafkaMetadata(name, brokers), ...scopes]));
    rewritten.add(name);
  }
  for (const name of [PUBSUB, PUBSUB_FANOUT])
    if (!rewritten.has(name)) throw new MeshError(`${file}: no ${name} component to put on Kafka`);
  writeFileSync(
    file,
    docs.map((d, i) => (i === 0 || String(d).startsWith("---") ? String(d) : `---\n${String(d)}`)).join(""),
  );
}
