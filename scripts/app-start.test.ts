// The command that starts a Node app is written in three places that must agree: the launcher's
// `appCommand` (scripts/mesh/mesh.ts: the local mesh, the tests and CI run it), each service's
// `npm start`, and the image's CMD (services/node.Dockerfile, the shipped stage). The launcher's
// is the source; the other two are checked against it here, so a change to one that forgets the
// others fails (the bundle paths, the telemetry preload, the flags).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { appCommand, REPO } from "./mesh/mesh.js";
import { APPS } from "./mesh/ports.js";

const NODE_APPS = APPS.filter((a) => a !== "ai");

/** The launcher's arguments with its measuring switches off (LSP_NODE_FLAGS, LSP_APP_FORM). */
function launcherArgs(app: (typeof NODE_APPS)[number]): string[] {
  assert.equal(process.env.LSP_NODE_FLAGS ?? "", "", "run without LSP_NODE_FLAGS");
  assert.equal(process.env.LSP_APP_FORM, undefined, "run without LSP_APP_FORM");
  return appCommand(app).args;
}

test("each Node service's `npm start` is the launcher's command", () => {
  for (const app of NODE_APPS) {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "services", app, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    assert.equal(pkg.scripts.start, ["node", ...launcherArgs(app)].join(" "), app);
  }
});

test("the image's command is the launcher's", () => {
  const dockerfile = readFileSync(path.join(REPO, "services", "node.Dockerfile"), "utf8");
  // The shipped stage is the last one; its CMD is the last CMD of the file.
  const cmds = [...dockerfile.matchAll(/^CMD (\[.*\])$/gm)].map((m) => JSON.parse(m[1] ?? "[]") as string[]);
  assert.ok(cmds.length > 0, "node.Dockerfile has a CMD");
  for (const app of NODE_APPS) assert.deepEqual(cmds.at(-1), ["node", ...launcherArgs(app)], app);
});

test("the ai image runs the module the launcher runs", () => {
  const dockerfile = readFileSync(path.join(REPO, "services", "ai", "Dockerfile"), "utf8");
  const cmd = [...dockerfile.matchAll(/^CMD (\[.*\])$/gm)]
    .map((m) => JSON.parse(m[1] ?? "[]") as string[])
    .at(-1);
  const { command, args } = appCommand("ai");
  assert.equal(path.basename(command), "python");
  assert.deepEqual(cmd, ["python", ...args]);
});
