import { readFileSync } from "node:fs";

/**
 * The pids above this process (tsx, sh, npm …), read from /proc. `npm start` does not pass a
 * SIGTERM on to its script, so a mesh whose launcher outlives `npm` would be orphaned; watching
 * the ancestors lets the launcher stop the mesh when any of them goes away. Empty off Linux.
 */
export function ancestorPids(limit = 4): number[] {
  const pids: number[] = [];
  let pid = process.ppid;
  while (pid > 1 && pids.length < limit) {
    pids.push(pid);
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may contain spaces, so split after ")".
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Calls `onGone` once any of the given ancestors has exited. */
export function watchAncestors(pids: number[], onGone: () => void, intervalMs = 1000): NodeJS.Timeout {
  const timer = setInterval(() => {
    if (pids.some((pid) => !isAlive(pid))) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return timer;
}
