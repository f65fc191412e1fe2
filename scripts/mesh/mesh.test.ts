import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { allPorts, portPlan, PORT_SPAN } from "./ports.js";
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
