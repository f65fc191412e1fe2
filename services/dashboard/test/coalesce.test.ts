import { test } from "node:test";
import assert from "node:assert/strict";
import { coalescer } from "../src/coalesce.js";

const tick = () => new Promise((r) => setImmediate(r));

test("a burst on one key costs the run in flight plus one more, and everyone sees a run that started after them", async () => {
  const coalesce = coalescer<string>();
  const starts: number[] = [];
  let release: (() => void) | undefined;
  const work = () => {
    starts.push(starts.length);
    return new Promise<void>((r) => (release = r));
  };
  const order: string[] = [];
  const first = coalesce("k", work).then(() => order.push("first"));
  const burst = Array.from({ length: 10 }, (_, i) => coalesce("k", work).then(() => order.push(`b${i}`)));
  await tick();
  assert.equal(starts.length, 1, "the burst waits for the run in flight");
  release?.();
  await tick();
  await tick();
  assert.deepEqual(order, ["first"], "the burst is not served by the run that began before it");
  assert.equal(starts.length, 2, "one more run serves the whole burst");
  release?.();
  await Promise.all([first, ...burst]);
  assert.equal(order.length, 11);
  assert.equal(starts.length, 2);
});

test("keys are independent; a failed run rejects its callers and the next run still happens", async () => {
  const coalesce = coalescer<string>();
  let calls = 0;
  await Promise.all([coalesce("a", async () => void calls++), coalesce("b", async () => void calls++)]);
  assert.equal(calls, 2);
  const failing = coalesce("a", () => Promise.reject(new Error("boom")));
  const after = coalesce("a", async () => void calls++);
  await assert.rejects(failing, /boom/);
  await after;
  assert.equal(calls, 3);
  // Once idle, a key starts a run at once again.
  await coalesce("a", async () => void calls++);
  assert.equal(calls, 4);
});
