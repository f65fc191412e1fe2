import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { groupMembers, startProcess, stopProcess, waitFor } from "./processes.js";

test("stopping a process takes its whole group, a member that ignores SIGTERM included", async () => {
  const logDir = mkdtempSync(path.join(tmpdir(), "lsp-processes-"));
  // The leader dies on SIGTERM; the member it started ignores SIGTERM (as multiprocessing's
  // resource tracker does) and would outlive it.
  const p = startProcess(
    "group",
    "sh",
    ["-c", `(trap "" TERM; echo member-ready; exec sleep 300) & exec sleep 300`],
    { cwd: logDir, logDir },
  );
  await waitFor("the member to start", async () => readFileSync(p.logFile, "utf8").includes("member-ready"), {
    timeoutMs: 10_000,
  });
  const pgid = p.child.pid!;
  assert.equal(groupMembers(pgid).length, 2);
  await stopProcess(p, 5_000);
  assert.deepEqual(groupMembers(pgid), [], "stopped means the whole group is gone, at once");
});

test("a group whose leader already died is still emptied", async () => {
  const logDir = mkdtempSync(path.join(tmpdir(), "lsp-processes-"));
  const p = startProcess(
    "orphans",
    "sh",
    ["-c", `(trap "" TERM; echo member-ready; exec sleep 300) & exit 0`],
    {
      cwd: logDir,
      logDir,
    },
  );
  await waitFor("the member to start", async () => readFileSync(p.logFile, "utf8").includes("member-ready"), {
    timeoutMs: 10_000,
  });
  await p.exited;
  const pgid = p.child.pid!;
  assert.equal(groupMembers(pgid).length, 1, "the leader is gone, its member is not");
  await stopProcess(p, 5_000);
  assert.deepEqual(groupMembers(pgid), [], "stopped means the whole group is gone, at once");
});
