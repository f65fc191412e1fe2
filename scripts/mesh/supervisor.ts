/**
 * Restarts a crashed process of the local mesh, as a kubelet restarts a crashed container: after
 * a back-off that doubles with each crash in a row and starts over once the process has stayed up
 * for a while. Every restart is logged as one JSON line. Written here rather than taken from a
 * process manager (pm2, supervisord): the launcher already owns each process (its own group, its
 * log file, its readiness wait) and only this small loop was missing.
 */

export interface BackoffPolicy {
  /** The delay before the first restart after a crash. */
  initialMs: number;
  /** The delay never grows beyond this (recovery target: ≤ 10 s per fault). */
  maxMs: number;
  factor: number;
  /** A process that ran this long before crashing counts as healthy: the next delay is initialMs. */
  resetAfterMs: number;
}

/** Like a kubelet's CrashLoopBackOff, but capped low: a local mesh should recover in seconds. */
export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 250,
  maxMs: 8_000,
  factor: 2,
  resetAfterMs: 30_000,
};

/** The delay before restart number `crashesInARow` (1 = the first crash after a healthy run). */
export function backoffDelay(policy: BackoffPolicy, crashesInARow: number): number {
  const n = Math.max(1, Math.floor(crashesInARow));
  return Math.min(policy.maxMs, policy.initialMs * policy.factor ** (n - 1));
}

/** What the supervisor needs of a running process. */
export interface Supervisable {
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  exited: Promise<number | null>;
}

/** One restart, as logged (JSON). */
export interface RestartEvent {
  level: "warn" | "error";
  msg: string;
  process: string;
  /** The exit code of the crashed process (null: killed by a signal). */
  exitCode: number | null;
  /** How long the crashed process ran. */
  uptimeMs: number;
  /** Crashes in a row, this one included. */
  crashesInARow: number;
  delayMs: number;
  time: string;
}

export interface Clock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SupervisorOptions<P extends Supervisable> {
  name: string;
  /** Starts the process; a rejection counts as a crash (e.g. a port not yet free). */
  start: () => P | Promise<P>;
  policy?: BackoffPolicy;
  log?: (event: RestartEvent) => void;
  /** Called with each new process once started (mesh.json, the app tier's list). */
  onStarted?: (proc: P, restarts: number) => void;
  clock?: Clock;
}

export class Supervisor<P extends Supervisable> {
  readonly name: string;
  private proc: P | undefined;
  private supervising = false;
  private crashesInARow = 0;
  private restartCount = 0;
  private pending: unknown;
  private readonly policy: BackoffPolicy;
  private readonly clock: Clock;

  constructor(private readonly opts: SupervisorOptions<P>) {
    this.name = opts.name;
    this.policy = opts.policy ?? DEFAULT_BACKOFF;
    this.clock = opts.clock ?? realClock;
  }

  /** The process now running (undefined between a crash and its restart). */
  current(): P | undefined {
    return this.proc;
  }

  restarts(): number {
    return this.restartCount;
  }

  /** Starts the process and supervises it from then on. */
  async start(): Promise<P> {
    this.supervising = true;
    return this.launch();
  }

  /** Stops supervising (no more restarts) and returns the running process, if any, to stop it. */
  release(): P | undefined {
    this.supervising = false;
    if (this.pending !== undefined) this.clock.clearTimeout(this.pending);
    this.pending = undefined;
    return this.proc;
  }

  private async launch(): Promise<P> {
    const startedAt = this.clock.now();
    const proc = await this.opts.start();
    this.proc = proc;
    this.opts.onStarted?.(proc, this.restartCount);
    void proc.exited.then((code) => {
      if (this.proc !== proc) return;
      this.proc = undefined;
      this.crashed(code, startedAt);
    });
    return proc;
  }

  private crashed(exitCode: number | null, startedAt: number): void {
    if (!this.supervising) return;
    const uptimeMs = this.clock.now() - startedAt;
    this.crashesInARow = uptimeMs >= this.policy.resetAfterMs ? 1 : this.crashesInARow + 1;
    const delayMs = backoffDelay(this.policy, this.crashesInARow);
    this.opts.log?.({
      level: this.crashesInARow > 3 ? "error" : "warn",
      msg: "process exited; restarting",
      process: this.name,
      exitCode,
      uptimeMs,
      crashesInARow: this.crashesInARow,
      delayMs,
      time: new Date(this.clock.now()).toISOString(),
    });
    this.pending = this.clock.setTimeout(() => {
      this.pending = undefined;
      if (!this.supervising) return;
      this.restartCount++;
      const attemptAt = this.clock.now();
      // The start itself failed (e.g. its port not free yet): a crash that left no process.
      this.launch().catch(() => this.crashed(-1, attemptAt));
    }, delayMs);
  }
}
