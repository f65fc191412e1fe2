import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";

export class MeshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MeshError";
  }
}

export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/** Starts a process in its own process group with stdout+stderr appended to a log file. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; logDir: string },
): Managed {
  mkdirSync(opts.logDir, { recursive: true });
  const logFile = path.join(opts.logDir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group: we can signal it and its children as one
  });
  // Two sources share one file: neither may end it; it ends once both are closed.
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  child.once("close", () => out.end());
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", (err) => {
      out.write(`failed to start ${command}: ${err.message}\n`);
      resolve(-1);
    });
  });
  return { name, child, logFile, exited };
}

/**
 * SIGTERM to the whole group, then SIGKILL after a grace period; and once the leader is gone,
 * SIGKILL to whatever it left in its group (as a container's processes die with it). A member
 * may ignore SIGTERM (Python multiprocessing's resource tracker does) and would otherwise outlive
 * the leader, holding the log's pipe open and with it the launcher's process.
 */
export async function stopProcess(p: Managed, graceMs = 8000): Promise<void> {
  const pid = p.child.pid;
  if (pid === undefined) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* the group is gone */
    }
  };
  if (p.child.exitCode === null && p.child.signalCode === null) {
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), graceMs);
    await p.exited;
    clearTimeout(timer);
  }
  signal("SIGKILL");
  // The leader's exit is not the group's: a member (the app under `npm run dev`'s watcher, a
  // Python worker) may still be dying and holding its ports. Stopped means every member is gone,
  // so whoever stops a process can reuse its ports at once (bounded: a member stuck in the kernel
  // is not waited for forever).
  const deadline = Date.now() + GROUP_GONE_TIMEOUT_MS;
  while (groupMembers(pid).length > 0 && Date.now() < deadline) await sleep(20);
}

const GROUP_GONE_TIMEOUT_MS = 5_000;

/**
 * The pids of the living members of process group `pgid`. From /proc where there is one (a
 * zombie, state Z, has released everything and waits only for its parent's wait); elsewhere
 * `kill(-pgid, 0)` says whether any member is left.
 */
export function groupMembers(pgid: number): number[] {
  // The usual case, a group already gone, costs one system call and no /proc scan.
  try {
    process.kill(-pgid, 0);
  } catch {
    return [];
  }
  if (!existsSync("/proc/self/stat")) return [pgid];
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // state ppid pgrp …
      if (Number(fields[2]) === pgid && fields[0] !== "Z") out.push(Number(entry));
    } catch {
      // ended between the listing and the read
    }
  }
  return out;
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(true));
    server.once("listening", () => server.close(() => resolve(false)));
    server.listen(port, "127.0.0.1");
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` until it passes; fails with a message naming the log to read when the process
 * exits or the deadline passes. Never hangs.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; process?: Managed; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.process && opts.process.child.exitCode !== null) {
      throw new MeshError(
        `${what}: process exited with code ${opts.process.child.exitCode}; read ${opts.process.logFile}`,
      );
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new MeshError(
        `${what} not ready after ${Math.round(opts.timeoutMs / 1000)}s${opts.process ? `; read ${opts.process.logFile}` : ""}`,
      );
    }
    await sleep(opts.intervalMs ?? 200);
  }
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return res.ok;
}

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setTimeout(500);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Where a tool's build script (`tools/<tool>/build.sh`, run with `--check`: it builds nothing)
 * cached its output for the pinned version: the last line it prints. `missing` is the error when
 * nothing is cached for this pin.
 */
export function cachedToolDir(repo: string, tool: string, missing: string): string {
  try {
    const out = execFileSync("bash", [path.join(repo, "tools", tool, "build.sh"), "--check"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return out.toString().trim().split("\n").pop() ?? "";
  } catch {
    throw new MeshError(missing);
  }
}
