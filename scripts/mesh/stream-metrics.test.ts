// The lag figures against a real Redis (the binary the mesh runs): a group that stops reading
// shows its unread entries as lag, read-but-unacknowledged ones as pending, and both return to
// 0 once it catches up. Each step is a command that has returned (XADD, XREADGROUP, XACK), so
// every expected figure is known before the scrape: no waiting, no sleep.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { startRedis } from "./infra.js";
import { stopProcess } from "./processes.js";
import { readStreamGroups, streamMetricsServer } from "./stream-metrics.js";

const run = promisify(execFile);

async function freePort(): Promise<number> {
  const s = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** One sample of a scrape: the value of `name` with these labels, or undefined if absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

test("consumer lag and pending entries per stream and group move as a consumer stops and catches up", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lsp-stream-metrics-"));
  const port = await freePort();
  const redis = await startRedis(dir, port, dir);
  const cli = (...args: string[]) => run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]);
  const server = streamMetricsServer(port).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const scrape = async () => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    return res.text();
  };
  const of = { db: "db0", stream: "orders", group: "dashboard" };
  try {
    assert.deepEqual(await readStreamGroups(port), [], "no stream yet: no series");
    // Two groups at the stream's end; "dashboard" then stops reading while "ai" keeps up.
    await cli("XGROUP", "CREATE", "orders", "dashboard", "$", "MKSTREAM");
    await cli("XGROUP", "CREATE", "orders", "ai", "$");
    for (let i = 0; i < 5; i++) await cli("XADD", "orders", "*", "n", String(i));
    await cli("XREADGROUP", "GROUP", "ai", "ai-1", "COUNT", "10", "STREAMS", "orders", ">");
    await cli("XACK", "orders", "ai", ...(await ids(cli)));

    let text = await scrape();
    assert.equal(sample(text, "redis_stream_group_lag", of), 5, "five entries unread by the stopped group");
    assert.equal(sample(text, "redis_stream_group_lag", { ...of, group: "ai" }), 0);
    assert.equal(sample(text, "redis_stream_length", { db: "db0", stream: "orders" }), 5);

    // The group reads three and acknowledges none: two unread, three pending.
    await cli("XREADGROUP", "GROUP", "dashboard", "dashboard-1", "COUNT", "3", "STREAMS", "orders", ">");
    text = await scrape();
    assert.equal(sample(text, "redis_stream_group_lag", of), 2);
    assert.equal(sample(text, "redis_stream_group_messages_pending", of), 3);
    assert.equal(sample(text, "redis_stream_group_consumers", of), 1);

    // Caught up and acknowledged: both back to 0.
    await cli("XREADGROUP", "GROUP", "dashboard", "dashboard-1", "COUNT", "10", "STREAMS", "orders", ">");
    await cli("XACK", "orders", "dashboard", ...(await ids(cli)));
    text = await scrape();
    assert.equal(sample(text, "redis_stream_group_lag", of), 0);
    assert.equal(sample(text, "redis_stream_group_messages_pending", of), 0);

    // Redis gone: the scrape says so (503), it does not report stale figures.
    await stopProcess(redis);
    assert.equal((await fetch(url)).status, 503);
    assert.equal((await fetch(url.replace("/metrics", "/other"))).status, 404);
  } finally {
    server.close();
    await stopProcess(redis);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every entry id of the stream (XRANGE), for XACK. */
async function ids(cli: (...args: string[]) => Promise<{ stdout: string }>): Promise<string[]> {
  const { stdout } = await cli("XRANGE", "orders", "-", "+");
  return stdout
    .split("\n")
    .filter((l) => /^\d+-\d+$/.test(l.trim()))
    .map((l) => l.trim());
}
