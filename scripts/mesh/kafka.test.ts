// LSP_PUBSUB=kafka without a broker: the engine switch, the broker's settings, and the rewrite of
// the rendered pub/sub components (the e2e test, test/e2e/kafka-pubsub.test.ts, runs them on one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { loadAccess, PUBSUB, PUBSUB_FANOUT } from "./access.js";
import { renderComponents } from "./dapr-runtime.js";
import {
  appHealthCheckEnabled,
  brokerProperties,
  kafkaClusterId,
  pubsubEngine,
  pubsubEngineOf,
  useKafkaPubsub,
} from "./kafka.js";
import { REPO } from "./repo.js";

interface Component {
  kind: string;
  metadata: { name: string };
  spec: { type: string; metadata: { name: string; value: string }[] };
  scopes: string[];
}

function render(): { file: string; before: Component[] } {
  const runDir = mkdtempSync(path.join(os.tmpdir(), "lsp-kafka-"));
  const { resourcesDir } = renderComponents(
    REPO,
    runDir,
    {
      REDIS_ADDR: "127.0.0.1:1",
      SECRETS_FILE: "/dev/null",
      MERCHANT_SECRETS_FILE: "/dev/null",
      NAME_RESOLUTION_DB: path.join(runDir, "nr.db"),
      FLAGS_CONNECTION_STRING: "host=127.0.0.1 port=1",
    },
    loadAccess(REPO),
  );
  const file = path.join(resourcesDir, "pubsub.yaml");
  return { file, before: read(file) };
}

const read = (file: string) =>
  parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as Component);
const meta = (c: Component | undefined) =>
  Object.fromEntries((c?.spec.metadata ?? []).map((m) => [m.name, m.value]));

test("LSP_PUBSUB: redis when unset or empty, kafka when asked, anything else refused by name", () => {
  assert.equal(pubsubEngine(undefined), "redis");
  assert.equal(pubsubEngine(" "), "redis");
  assert.equal(pubsubEngine("redis"), "redis");
  assert.equal(pubsubEngine("kafka"), "kafka");
  assert.throws(() => pubsubEngine("Kafka"), /LSP_PUBSUB: "Kafka" is not one of redis, kafka/);
  assert.throws(() => pubsubEngine("nats"), /not one of/);
});

test("the broker: combined broker and controller on the given ports, logs under its data dir, single-replica internals", () => {
  const props = Object.fromEntries(
    brokerProperties("/data/kafka", { broker: 7117, controller: 7118 })
      .trim()
      .split("\n")
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  assert.equal(props["process.roles"], "broker,controller");
  assert.equal(props["controller.quorum.voters"], "1@127.0.0.1:7118");
  assert.equal(props.listeners, "PLAINTEXT://127.0.0.1:7117,CONTROLLER://127.0.0.1:7118");
  assert.equal(props["advertised.listeners"], "PLAINTEXT://127.0.0.1:7117");
  assert.equal(props["log.dirs"], "/data/kafka/logs");
  assert.equal(props["offsets.topic.replication.factor"], "1");
  assert.equal(props["log.retention.hours"], "168", "as long as the Redis streams' streamTTL (168h)");
});

test("pubsub and pubsub-fanout become pubsub.kafka with the same names, scopes and topic scopes", () => {
  const { file, before } = render();
  useKafkaPubsub(file, "127.0.0.1:7117");
  const after = read(file);
  assert.deepEqual(
    after.map((c) => c.metadata.name),
    before.map((c) => c.metadata.name),
  );
  for (const name of [PUBSUB, PUBSUB_FANOUT]) {
    const was = before.find((c) => c.metadata.name === name);
    const now = after.find((c) => c.metadata.name === name);
    assert.equal(was?.spec.type, "pubsub.redis");
    assert.equal(now?.spec.type, "pubsub.kafka");
    assert.deepEqual(now?.scopes, was?.scopes);
    for (const key of ["allowedTopics", "protectedTopics", "publishingScopes", "subscriptionScopes"])
      assert.equal(meta(now)[key], meta(was)[key], `${name} ${key}`);
    assert.equal(meta(now).brokers, "127.0.0.1:7117");
    assert.equal(meta(now).authType, "none");
    assert.equal(meta(now).redisHost, undefined);
  }
  const fanout = meta(after.find((c) => c.metadata.name === PUBSUB_FANOUT));
  assert.equal(fanout.consumerGroup, "{podName}");
  assert.equal(fanout.initialOffset, "newest");
  const shared = meta(after.find((c) => c.metadata.name === PUBSUB));
  assert.equal(shared.consumerGroup, undefined, "Dapr's consumerID (the app id) names the group");
  assert.equal(shared.initialOffset, "oldest");
});

test("a rendered file without both pub/sub components is refused, not half-rewritten", () => {
  const { file } = render();
  useKafkaPubsub(file, "127.0.0.1:7117");
  // Already Kafka: no topic scope is missing, so a second rewrite is the same file.
  const once = readFileSync(file, "utf8");
  useKafkaPubsub(file, "127.0.0.1:7117");
  assert.equal(readFileSync(file, "utf8"), once);
  const other = path.join(path.dirname(file), "cache.yaml");
  assert.throws(() => useKafkaPubsub(other, "127.0.0.1:7117"), /no pubsub component to put on Kafka/);
});

test("the app health check runs on Redis and not on Kafka", () => {
  assert.equal(appHealthCheckEnabled("redis"), true);
  assert.equal(appHealthCheckEnabled("kafka"), false);
});

test("a running mesh's engine: Kafka when a broker is among its processes, else Redis", () => {
  assert.equal(pubsubEngineOf([{ role: "redis" }, { role: "sidecar" }]), "redis");
  assert.equal(pubsubEngineOf([{ role: "redis" }, { role: "kafka" }, { role: "app" }]), "kafka");
});

test("a Kafka cluster id never starts with '-', which the storage tool would read as an option", () => {
  const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
  const id = kafkaClusterId(() => draws.shift() ?? Buffer.alloc(16, 0x02));
  assert.equal(Buffer.alloc(16, 0xf8).toString("base64url")[0], "-", "the first draw starts with '-'");
  assert.equal(id, Buffer.alloc(16, 0x01).toString("base64url"));
  assert.equal(id.length, 22);
  for (let i = 0; i < 1000; i++) assert.ok(!kafkaClusterId().startsWith("-"));
});
