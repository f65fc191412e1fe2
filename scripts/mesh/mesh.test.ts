import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { allPorts, APPS, parseReplicas, portPlan, PORT_SPAN, replicaPorts, spanOf } from "./ports.js";
import { MeshError, portInUse, startProcess, waitFor } from "./processes.js";

test("every port of a mesh is distinct and inside its span", () => {
  const plan = portPlan(4000);
  const ports = allPorts(plan).map((p) => p.port);
  assert.equal(new Set(ports).size, ports.length);
  assert.ok(ports.every((p) => p >= 4000 && p < 4000 + PORT_SPAN));
  assert.equal(plan.apps.edge.app, 4000, "the edge answers on the base port");
  assert.throws(() => portPlan(80), RangeError);
});

test("two meshes whose bases are a span apart share no port", () => {
  const a = new Set(allPorts(portPlan(4000)).map((p) => p.port));
  assert.ok(allPorts(portPlan(4000 + PORT_SPAN)).every((p) => !a.has(p.port)));
});

test("a busy port is detected", async () => {
  const server = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const port = (server.address() as net.AddressInfo).port;
  assert.equal(await portInUse(port), true);
  server.close();
});

test("waiting on a process that dies names its log file instead of hanging", async () => {
  const logDir = mkdtempSync(path.join(os.tmpdir(), "lsp-mesh-"));
  const proc = startProcess("dies", "bash", ["-c", "echo boom; exit 3"], { cwd: logDir, logDir });
  await assert.rejects(
    waitFor("dies", async () => false, { timeoutMs: 10_000, process: proc }),
    (err: unknown) =>
      err instanceof MeshError &&
      err.message.includes(path.join(logDir, "dies.log")) &&
      err.message.includes("code 3"),
  );
});

test("waiting on something that never becomes ready times out with a clear message", async () => {
  await assert.rejects(
    waitFor("never", async () => false, { timeoutMs: 300 }),
    /never not ready after 0s/,
  );
});

test("the launcher sees the processes above it, and notices when one of them is gone", async () => {
  const { ancestorPids, isAlive, watchAncestors } = await import("./ancestors.js");
  const chain = ancestorPids();
  assert.equal(chain[0], process.ppid);
  assert.ok(chain.every(isAlive));
  const { spawn } = await import("node:child_process");
  const shortLived = spawn("sleep", ["0.3"]);
  const gone = await new Promise<boolean>((resolve) => {
    const giveUp = setTimeout(() => resolve(false), 5000);
    watchAncestors(
      [shortLived.pid!],
      () => {
        clearTimeout(giveUp);
        resolve(true);
      },
      50,
    );
  });
  assert.equal(gone, true);
});

test("a base that would put an app on a port fetch refuses is rejected up front", () => {
  assert.throws(() => portPlan(5000), /payments app on 5060/);
  assert.doesNotThrow(() => portPlan(5100));
});

test("a mesh of single replicas keeps its ports whatever LSP_REPLICAS could add", () => {
  const single = portPlan(4000);
  const scaled = portPlan(4000, parseReplicas("edge=2,dashboard=2,sales=2,ai=2"));
  assert.deepEqual(scaled.apps, single.apps, "the first replicas' ports do not move");
  for (const app of APPS) assert.deepEqual(replicaPorts(scaled, app, 1), single.apps[app]);
  assert.equal(spanOf(single), PORT_SPAN);
  assert.deepEqual(parseReplicas(undefined), parseReplicas(""));
});

test("replica ports are distinct, inside the mesh's span, and follow from the first replica's", () => {
  const plan = portPlan(4000, parseReplicas("edge=3,dashboard=2,sales=2,ai=2"));
  const ports = allPorts(plan).map((p) => p.port);
  assert.equal(new Set(ports).size, ports.length);
  assert.equal(spanOf(plan), 3 * PORT_SPAN);
  assert.ok(ports.every((p) => p >= 4000 && p < 4000 + spanOf(plan)));
  assert.equal(replicaPorts(plan, "edge", 2).app, 4000 + PORT_SPAN);
  assert.equal(replicaPorts(plan, "edge", 3).daprHttp, plan.apps.edge.daprHttp + 2 * PORT_SPAN);
  assert.equal(replicaPorts(plan, "sales", 2).ops, plan.apps.sales.ops + PORT_SPAN);
  assert.throws(() => replicaPorts(plan, "auth", 2), /auth has 1 replica/);
  // Two single-replica meshes a span apart stay apart; a scaled mesh needs its whole span.
  assert.throws(() => portPlan(65535 - PORT_SPAN - 10, parseReplicas("edge=2")), RangeError);
});

test("LSP_REPLICAS typos are refused with the part that is wrong", () => {
  assert.equal(parseReplicas(" edge=2 , ai=3").edge, 2);
  assert.equal(parseReplicas("edge=2").auth, 1);
  assert.throws(() => parseReplicas("egde=2"), /unknown app "egde"/);
  assert.throws(() => parseReplicas("edge=0"), /edge=0, the count must be 1/);
  assert.throws(() => parseReplicas("edge=9"), /the count must be 1/);
  assert.throws(() => parseReplicas("edge"), /"edge" is not app=count/);
  assert.throws(() => parseReplicas("edge=2,edge=3"), /edge is named twice/);
});

test("a replica on a port fetch refuses is rejected up front", () => {
  // 4960 + 100: payments (i=4) replica 2's app port would be 5060 … only if payments had 2.
  assert.doesNotThrow(() => portPlan(4900, parseReplicas("edge=2")));
  assert.throws(() => portPlan(4900, parseReplicas("payments=2")), /payments replica 2 app on 5060/);
});
