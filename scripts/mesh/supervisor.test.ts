import { test } from "node:test";
import assert from "node:assert/strict";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  Supervisor,
  type RestartEvent,
  type Supervisable,
} from "./supervisor.js";

/** A process the test ends by hand: `crash(code)` is its exit. */
function fakeProcess(pid: number): Supervisable & { pid: number; crash: (code: number | null) => void } {
  let crash: (code: number | null) => void = () => undefined;
  const exited = new Promise<number | null>((resolve) => (crash = resolve));
  return { pid, exited, crash: (code) => crash(code) };
}

/** Lets the supervisor's `exited.then` handlers run (microtasks), without advancing time. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test("the back-off doubles with each crash in a row and stops growing at its cap", () => {
  const p = { initialMs: 250, maxMs: 8_000, factor: 2, resetAfterMs: 30_000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(p, n)),
    [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000],
  );
  assert.ok(DEFAULT_BACKOFF.maxMs <= 10_000, "the recovery target is 10 s per fault");
});

test("a crashed process is restarted after the back-off, each restart logged", async (t) => {
  // setImmediate stays real: `settle` runs on it.
  t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
  const started: ReturnType<typeof fakeProcess>[] = [];
  const logged: RestartEvent[] = [];
  const sup = new Supervisor({
    name: "sales",
    policy: { initialMs: 100, maxMs: 400, factor: 2, resetAfterMs: 10_000 },
    start: () => {
      const p = fakeProcess(100 + started.length);
      started.push(p);
      return p;
    },
    log: (e) => logged.push(e),
  });
  await sup.start();
  assert.equal(started.length, 1);

  started[0]!.crash(137);
  await settle();
  assert.equal(sup.current(), undefined, "nothing runs between the crash and the restart");
  t.mock.timers.tick(99);
  await settle();
  assert.equal(started.length, 1, "not restarted before the back-off");
  t.mock.timers.tick(1);
  await settle();
  assert.equal(started.length, 2, "restarted once the back-off passed");
  assert.equal(sup.current()?.pid, 101);
  assert.deepEqual(
    logged.map((e) => [e.process, e.exitCode, e.crashesInARow, e.delayMs]),
    [["sales", 137, 1, 100]],
  );

  // Crashing again at once: the delay doubles, then is capped.
  for (const [i, delay] of [200, 400, 400].entries()) {
    started[i + 1]!.crash(1);
    await settle();
    t.mock.timers.tick(delay - 1);
    await settle();
    assert.equal(started.length, i + 2, `crash ${i + 2}: not before ${delay} ms`);
    t.mock.timers.tick(1);
    await settle();
    assert.equal(started.length, i + 3, `crash ${i + 2}: restarted after ${delay} ms`);
  }
  assert.deepEqual(
    logged.map((e) => e.delayMs),
    [100, 200, 400, 400],
  );
  assert.equal(logged.at(-1)?.level, "error", "a crash loop is logged as an error");
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(logged.at(-1))));
  assert.equal(sup.restarts(), 4);

  // A process that stayed up past resetAfterMs starts the back-off over.
  t.mock.timers.tick(10_000);
  started[4]!.crash(null);
  await settle();
  assert.equal(logged.at(-1)?.crashesInARow, 1);
  assert.equal(logged.at(-1)?.delayMs, 100);
  assert.equal(logged.at(-1)?.exitCode, null, "killed by a signal");
  assert.equal(logged.at(-1)?.uptimeMs, 10_000);
});

test("a released process is not restarted, nor is a pending restart carried out", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  const started: ReturnType<typeof fakeProcess>[] = [];
  const sup = new Supervisor({
    name: "edge-2",
    policy: { initialMs: 50, maxMs: 50, factor: 2, resetAfterMs: 1_000 },
    start: () => {
      const p = fakeProcess(started.length);
      started.push(p);
      return p;
    },
  });
  await sup.start();
  assert.equal(sup.release(), started[0], "release hands back the running process to stop it");
  started[0]!.crash(0);
  await settle();
  t.mock.timers.tick(1_000);
  await settle();
  assert.equal(started.length, 1, "stopped on purpose: no restart");

  // Crash, then release while the restart waits.
  await sup.start();
  started[1]!.crash(1);
  await settle();
  sup.release();
  t.mock.timers.tick(1_000);
  await settle();
  assert.equal(started.length, 2);
});

test("a restart whose start fails is retried with a longer back-off", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout", "Date"] });
  let attempts = 0;
  const logged: RestartEvent[] = [];
  const first = fakeProcess(1);
  const sup = new Supervisor<ReturnType<typeof fakeProcess>>({
    name: "redis",
    policy: { initialMs: 10, maxMs: 1_000, factor: 3, resetAfterMs: 60_000 },
    start: () => {
      attempts++;
      if (attempts === 1) return first;
      if (attempts < 4) throw new Error("port still in use");
      return fakeProcess(attempts);
    },
    log: (e) => logged.push(e),
  });
  await sup.start();
  first.crash(1);
  for (const delay of [10, 30, 90]) {
    await settle();
    t.mock.timers.tick(delay);
    await settle();
  }
  assert.equal(attempts, 4);
  assert.equal(sup.current()?.pid, 4);
  assert.deepEqual(
    logged.map((e) => e.delayMs),
    [10, 30, 90],
  );
});
