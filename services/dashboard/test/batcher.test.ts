import { test } from "node:test";
import assert from "node:assert/strict";
import { groupCommit } from "../src/batcher.js";

interface E {
  entryId: string;
  n: number;
}

/** A batch apply that holds each batch until released, recording what it was given. */
function gatedApply() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const apply = async (events: E[]) => {
    batches.push(events.map((e) => e.n));
    await new Promise<void>((resolve) => gates.push(resolve));
    return new Map(events.map((e) => [e.entryId, e.n % 2 === 0 ? "SUCCESS" : "RETRY"]));
  };
  return { apply, batches, release: () => gates.shift()?.() };
}

test("deliveries that arrive during a batch go together as the next one; statuses go back to each", async () => {
  const g = gatedApply();
  const submit = groupCommit(g.apply, { maxEvents: 100 });
  const first = submit([{ entryId: "single", n: 0 }]);
  const rest = [1, 2, 3].map((n) => submit([{ entryId: "single", n }]));
  assert.deepEqual(g.batches, [[0]], "the first goes at once, alone");
  g.release();
  assert.deepEqual((await first).get("single"), "SUCCESS");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(g.batches, [[0], [1, 2, 3]], "the three waiting go as one batch");
  g.release();
  const statuses = await Promise.all(rest);
  assert.deepEqual(
    statuses.map((s) => s.get("single")),
    ["RETRY", "SUCCESS", "RETRY"],
  );
});

test("a batch is capped; a failed batch fails each of its deliveries, not the next", async () => {
  let calls = 0;
  const sizes: number[] = [];
  const submit = groupCommit<E, string>(
    (events) => {
      calls++;
      sizes.push(events.length);
      if (calls === 2) return Promise.reject(new Error("database down"));
      return new Promise((r) => setImmediate(() => r(new Map(events.map((e) => [e.entryId, "SUCCESS"])))));
    },
    { maxEvents: 2 },
  );
  const all = [0, 1, 2, 3, 4].map((n) =>
    submit([{ entryId: `e${n}`, n }]).then(
      (s) => s.get(`e${n}`),
      () => "failed",
    ),
  );
  assert.deepEqual(await Promise.all(all), ["SUCCESS", "failed", "failed", "SUCCESS", "SUCCESS"]);
  assert.deepEqual(sizes, [1, 2, 2]);
});
