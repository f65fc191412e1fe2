// The configuration subscription's contract with a fake of the sidecar's two RPCs (unit level;
// the real sidecar and store are exercised by test/e2e/flags-live.test.ts): the snapshot is read
// only once the stream is subscribed, changes follow, and a broken stream is subscribed and read
// again rather than left silent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@lsp/runtime";
import { subscribeConfiguration, type ConfigurationItems, type ConfigurationRpc } from "./configuration.js";

type Message = { id: string; items: ConfigurationItems };

function fakeDapr(streams: (() => AsyncIterable<Message>)[], snapshots: ConfigurationItems[]) {
  const calls: string[] = [];
  let stream = 0;
  let snapshot = 0;
  const rpc = {
    getConfiguration: async () => {
      calls.push("get");
      return { items: snapshots[Math.min(snapshot++, snapshots.length - 1)] ?? {} };
    },
    subscribeConfiguration: () => {
      calls.push("subscribe");
      const next = streams[stream++];
      if (!next) return (async function* () {})();
      return next();
    },
  };
  return { dapr: rpc as ConfigurationRpc, calls };
}

const item = (value: string, version: string) => ({ value, version });

test("configuration subscription: snapshot after the subscription, then changes; a broken stream is subscribed and read again", async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const { dapr, calls } = fakeDapr(
    [
      async function* (): AsyncGenerator<Message> {
        yield { id: "s1", items: {} };
        yield { id: "s1", items: { a: item("on", "2") } };
        throw new Error("sidecar restarted");
      },
      async function* (): AsyncGenerator<Message> {
        yield { id: "s2", items: {} };
        yield { id: "s2", items: { b: item("off", "1") } };
        await held; // stays open until the test ends
      },
    ],
    [{ a: item("off", "1") }, { a: item("on", "2") }],
  );
  const seen: [string, ConfigurationItems][] = [];
  const sub = subscribeConfiguration(
    dapr,
    "flags",
    (items, source) => seen.push([source, items]),
    createLogger("test", "fatal"),
  );
  await sub.ready;
  const deadline = Date.now() + 5000;
  while (seen.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  sub.stop();
  release();
  assert.deepEqual(calls, ["subscribe", "get", "subscribe", "get"]);
  assert.deepEqual(seen, [
    ["snapshot", { a: item("off", "1") }],
    ["change", { a: item("on", "2") }],
    ["snapshot", { a: item("on", "2") }],
    ["change", { b: item("off", "1") }],
  ]);
});
