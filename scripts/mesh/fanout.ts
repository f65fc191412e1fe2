/**
 * Fan-out subscriptions: every replica of an app marked `fanOut` in components/access.yaml (the
 * edge) receives every event of the topics it subscribes to, where Dapr would hand each event to
 * one replica. The `pubsub-fanout` component (components/local/pubsub.yaml) reads the same Redis
 * streams as `pubsub` with one consumer group per replica (`consumerID: "{podName}"`). Dapr makes
 * a missing group at the stream's start ("0"), which would replay the whole history to a new
 * replica; so the group is made at the stream's end ("$") before the replica's sidecar first
 * subscribes, and removed once the replica is gone (here by the launcher; in the chart by the
 * edge pod's init container, which also sweeps the groups of pods that no longer exist).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { PUBSUB_FANOUT, fanOutTopicsOf, type Access } from "./access.js";
import { CHART_FILES } from "./repo.js";
import { MeshError } from "./processes.js";

export { PUBSUB_FANOUT };

/** The topics each fan-out app reads per replica (through pubsub-fanout), by app. */
export function fanoutTopics(access: Access): Partial<Record<string, string[]>> {
  return Object.fromEntries(
    Object.entries(access.apps)
      .filter(([, a]) => fanOutTopicsOf(a).length > 0)
      .map(([app, a]) => [app, fanOutTopicsOf(a)]),
  );
}

/** The apps that load pubsub-fanout. */
export function fanoutApps(access: Access): string[] {
  return Object.keys(fanoutTopics(access));
}

const run = promisify(execFile);

async function redis(port: number, args: string[]): Promise<string> {
  try {
    const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
    return stdout.trim();
  } catch (err) {
    throw new MeshError(`redis-cli ${args.join(" ")} failed: ${String(err)}`);
  }
}

/**
 * The script that makes a pod's groups at the streams' ends and sweeps the groups of gone pods,
 * shared with the chart's init container (one source: charts/lsp/files/redis/fanout-groups.lua).
 */
const FANOUT_SCRIPT = path.join(CHART_FILES, "redis", "fanout-groups.lua");

/** How long every consumer of a group must have been inactive for its pod to be taken for gone. */
export const FANOUT_GONE_AFTER_MS = 10 * 60_000;

/**
 * Makes `group` on each topic's stream at its end, so the replica reads only what is published
 * from now on; a group of that name left by an earlier run of the launcher (same replica names)
 * is replaced first. Returns how many groups of gone replicas the script removed.
 */
export async function createFanoutGroups(
  port: number,
  app: string,
  group: string,
  topics: string[],
): Promise<number> {
  for (const topic of topics) await redis(port, ["XGROUP", "DESTROY", topic, group]);
  const script = readFileSync(FANOUT_SCRIPT, "utf8");
  const reply = await redis(port, [
    "EVAL",
    script,
    String(topics.length),
    ...topics,
    group,
    `${app}-`,
    String(FANOUT_GONE_AFTER_MS),
  ]);
  if (!/^\d+$/.test(reply)) throw new MeshError(`fan-out groups of ${group}: ${reply}`);
  return Number(reply);
}

/** Removes a gone replica's groups: nobody would read them, and they would hold its backlog. */
export async function dropFanoutGroups(port: number, group: string, topics: string[]): Promise<void> {
  for (const topic of topics) await redis(port, ["XGROUP", "DESTROY", topic, group]);
}
