// The Kafka consumer-lag figure without a broker: ConsumerLag.java's output parsed and summed per
// group and topic, and the soak sample taking its worst lag from whichever reader it is given
// (test/e2e/kafka-pubsub.test.ts reads a real broker's groups with it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { groupLag, kafkaLagRegistry, parseConsumerLag } from "./kafka-lag.js";
import { takeSample } from "./soak.js";

const line = (o: Record<string, unknown>) => JSON.stringify(o);

test("ConsumerLag's lines parse into partitions; a bad line is refused by its number", () => {
  const out = [
    line({ group: "dashboard", topic: "orders", partition: 0, committed: 41, end: 334, members: 1 }),
    "",
    line({ group: "ai", topic: "orders", partition: 0, committed: 334, end: 334, members: 0 }),
  ].join("\n");
  assert.deepEqual(parseConsumerLag(out), [
    { group: "dashboard", topic: "orders", partition: 0, committed: 41, end: 334, members: 1 },
    { group: "ai", topic: "orders", partition: 0, committed: 334, end: 334, members: 0 },
  ]);
  assert.deepEqual(parseConsumerLag(""), []);
  assert.throws(() => parseConsumerLag(`${out}\nException in thread "main"`), /line 4 is not JSON/);
  assert.throws(
    () =>
      parseConsumerLag(
        line({ group: "ai", topic: "orders", partition: 0, committed: "1", end: 2, members: 0 }),
      ),
    /line 1: .*number/i,
  );
  assert.throws(
    () =>
      parseConsumerLag(
        line({ group: "ai", topic: "orders", partition: -1, committed: 1, end: 2, members: 0 }),
      ),
    /line 1/,
  );
});

test("lag per group and topic: partitions summed, never below zero, groups kept apart", () => {
  const rows = groupLag([
    { group: "dashboard", topic: "orders", partition: 0, committed: 10, end: 25, members: 1 },
    { group: "dashboard", topic: "orders", partition: 1, committed: 7, end: 9, members: 1 },
    { group: "ai", topic: "orders", partition: 0, committed: 25, end: 25, members: 2 },
    // A committed offset past the end (a truncated log) is no negative lag.
    { group: "edge-1", topic: "dashboard", partition: 0, committed: 12, end: 10, members: 1 },
  ]);
  assert.deepEqual(rows, [
    { stream: "dashboard", group: "edge-1", lag: 0, pending: 0, consumers: 1, length: 10 },
    { stream: "orders", group: "ai", lag: 0, pending: 0, consumers: 2, length: 25 },
    { stream: "orders", group: "dashboard", lag: 17, pending: 0, consumers: 1, length: 34 },
  ]);
});

test("a soak sample's worst lag comes from the reader it is given; a failing reader is an unknown lag", async () => {
  const kafka = async () =>
    groupLag([
      { group: "dashboard", topic: "orders", partition: 0, committed: 40, end: 334, members: 1 },
      { group: "ai", topic: "orders", partition: 0, committed: 330, end: 334, members: 1 },
    ]);
  const s = await takeSample([], kafka, 1_000, 5);
  assert.deepEqual(s.maxLag, { entries: 294, stream: "orders", group: "dashboard" });
  assert.equal(s.pendingEntries, 0);
  const down = await takeSample([], () => Promise.reject(new Error("broker down")), 2_000, 5);
  assert.deepEqual(down.maxLag, { entries: 0, stream: "", group: "" });
});

test("the lag registry serves kafka-exporter's series from one broker read per scrape", async () => {
  let reads = 0;
  const registry = kafkaLagRegistry(() => {
    reads++;
    return Promise.resolve([
      { group: "dashboard", topic: "orders", partition: 0, committed: 41, end: 334, members: 1 },
      { group: "dashboard", topic: "orders", partition: 1, committed: 10, end: 12, members: 1 },
      { group: "ai", topic: "orders", partition: 0, committed: 334, end: 334, members: 0 },
    ]);
  });
  const text = await registry.metrics();
  assert.equal(reads, 1, "the five gauges share one read");
  const has = (sample: string) => assert.ok(text.split("\n").includes(sample), `${sample} in\n${text}`);
  has('kafka_consumergroup_lag{consumergroup="dashboard",topic="orders",partition="0"} 293');
  has('kafka_consumergroup_lag{consumergroup="dashboard",topic="orders",partition="1"} 2');
  has('kafka_consumergroup_lag_sum{consumergroup="dashboard",topic="orders"} 295');
  has('kafka_consumergroup_lag_sum{consumergroup="ai",topic="orders"} 0');
  has('kafka_consumergroup_current_offset{consumergroup="dashboard",topic="orders",partition="0"} 41');
  has('kafka_consumergroup_members{consumergroup="dashboard"} 1');
  has('kafka_consumergroup_members{consumergroup="ai"} 0');
  has('kafka_topic_partition_current_offset{topic="orders",partition="0"} 334');
  await registry.metrics();
  assert.equal(reads, 2, "each scrape reads the broker afresh");
});

test("a broker that does not answer fails the scrape rather than reporting no lag", async () => {
  const registry = kafkaLagRegistry(() => Promise.reject(new Error("timeout")));
  await assert.rejects(registry.metrics(), /timeout/);
});
