import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startProcess, stopProcess, waitFor } from "./processes.js";

/** The pids of the processes in process group `pgid` (from /proc). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // state ppid pgrp …; a zombie (state Z) is gone but for its parent's wait.
      if (Number(fields[2]) === pgid && fields[0] !== "Z") out.push(Number(entry));
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}

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
  await waitFor("the group to be gone", async () => groupMembers(pgid).length === 0, { timeoutMs: 5_000 });
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
  await waitFor("the group to be gone", async () => groupMembers(pgid).length === 0, { timeoutMs: 5_000 });
});
