import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { joinRefusal, readRunningMesh } from "./join.js";
import type { MeshFile } from "./mesh.js";
import { MeshError } from "./processes.js";
import { SINGLE_REPLICAS } from "./ports.js";

const meshFile = (over: Partial<MeshFile> = {}): MeshFile => ({
  run: "dev",
  portBase: 4000,
  launcherPid: process.pid,
  replicas: { ...SINGLE_REPLICAS },
  join: {
    apps: ["edge", "auth", "dashboard"],
    demoData: true,
    logLevel: "info",
    resources: { resourcesDir: "/r", configFiles: {} },
    trust: { dir: "/t", caFile: "/t/ca.crt" },
  },
  processes: [],
  ...over,
});

function runDirWith(content: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), "lsp-join-"));
  writeFileSync(path.join(dir, "mesh.json"), JSON.stringify(content));
  return dir;
}

test("an app the mesh does not run may join it", () => {
  assert.equal(joinRefusal(meshFile(), "sales"), undefined);
});

test("an app the mesh already runs is refused, with the command that leaves it out", () => {
  const why = joinRefusal(meshFile(), "auth");
  assert.match(why ?? "", /auth already runs in this mesh/);
  assert.match(why ?? "", /LSP_APPS=edge,dashboard npm start/);
});

test("an unknown app is refused with the list of apps", () => {
  assert.match(joinRefusal(meshFile(), "billing") ?? "", /unknown app "billing"; one of edge, auth/);
});

test("a running mesh's file is read", () => {
  const mesh = readRunningMesh(runDirWith(meshFile()));
  assert.deepEqual(mesh.join.apps, ["edge", "auth", "dashboard"]);
});

test("no mesh.json: a clear error that says how to start one", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lsp-join-"));
  assert.throws(
    () => readRunningMesh(dir),
    (e: unknown) => e instanceof MeshError && /no running mesh/.test(e.message),
  );
});

test("a mesh whose launcher is gone is refused", () => {
  // A pid far above any the kernel hands out (pid_max is at most 2^22).
  const dir = runDirWith(meshFile({ launcherPid: 2 ** 30 }));
  assert.throws(
    () => readRunningMesh(dir),
    (e: unknown) => e instanceof MeshError && /is gone/.test(e.message),
  );
});

test("a mesh.json without what joining needs (an older launcher) is refused", () => {
  const { join: _join, ...old } = meshFile();
  assert.throws(
    () => readRunningMesh(runDirWith(old)),
    (e: unknown) => e instanceof MeshError && /older launcher: restart the mesh/.test(e.message),
  );
});
