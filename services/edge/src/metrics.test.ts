import assert from "node:assert/strict";
import { test } from "node:test";
import { createPubSub } from "graphql-yoga";
import { registry } from "@lsp/runtime";
import { MAX_OPERATION_NAMES, boundedOperationName, countedEventTarget } from "./metrics.js";

test("operation names are labels up to a bound; anonymous, odd and excess names are grouped", () => {
  const seen = new Set<string>();
  assert.equal(boundedOperationName(undefined, seen), "Anonymous");
  assert.equal(boundedOperationName("Dashboard", seen), "Dashboard");
  assert.equal(boundedOperationName("has space", seen), "other");
  assert.equal(boundedOperationName("x".repeat(65), seen), "other");
  for (let i = seen.size; i < MAX_OPERATION_NAMES; i++) boundedOperationName(`Op${i}`, seen);
  assert.equal(seen.size, MAX_OPERATION_NAMES);
  assert.equal(boundedOperationName("OneTooMany", seen), "other");
  assert.equal(boundedOperationName("Dashboard", seen), "Dashboard", "a known name stays itself");
});

test("edge_live_subscriptions counts the pub/sub's subscriptions from their start to their end", async () => {
  const event = "test.counted";
  const open = async () =>
    (await registry.getSingleMetric("edge_live_subscriptions")?.get())?.values
      .filter((v) => v.labels.event === event)
      .reduce((n, v) => n + v.value, 0);
  const pubSub = createPubSub<{ [event]: [number] }>({ eventTarget: countedEventTarget(event) as never });
  assert.equal(await open(), 0);
  const first = pubSub.subscribe(event)[Symbol.asyncIterator]();
  const second = pubSub.subscribe(event)[Symbol.asyncIterator]();
  assert.equal(await open(), 0, "a stream not yet started listens to nothing");
  const received = [first.next(), second.next()];
  assert.equal(await open(), 2);
  pubSub.publish(event, 7);
  assert.deepEqual(
    (await Promise.all(received)).map((r) => r.value),
    [7, 7],
  );
  await first.return?.();
  assert.equal(await open(), 1);
  await second.return?.();
  assert.equal(await open(), 0);
});
