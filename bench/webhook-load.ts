// Payment webhooks under load (issue 13, item 7), on a fresh mesh of its own (LSP_PORT_BASE,
// default 6400). Two phases, each on its own set of open orders with started ZaloPay payments
// (ZaloPay, because its reply body tells a first acceptance, return_code 1, from a duplicate, 2):
//  (1) throughput: wrk, pinned with taskset to BENCH_GENERATOR_CPUS, replays pre-signed distinct
//      callbacks (one per order: signing needs an HMAC per request, which wrk's Lua cannot do, so
//      they are signed here and read from a file) with many connections for a fixed time:
//      callbacks accepted per second and the reply time p50/p99 as wrk measures it;
//  (2) latency at an open-loop rate (default 100/s): a lean Node sender, pinned the same way,
//      sends pre-signed callbacks on a fixed schedule whatever the replies; reply p50/p99 and the
//      time from each reply to the owner's `notificationReceived` event (GraphQL over SSE at the
//      edge; each order is n × Trà đá, and the notification names ×n, which matches it).
// Each generator's CPU use is printed as a share of one core over its run. Only public APIs (the
// edge's GraphQL and webhook routes), so the same file measures an older main as well.
// Usage:
//   LSP_PORT_BASE=6400 npx tsx bench/webhook-load.ts [--orders 3000] [--duration 10]
//     [--connections 32] [--rate 100] [--seconds 9]      (BENCH_GENERATOR_CPUS=1)
import { randomUUID } from "node:crypto";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { merchantSecrets } from "../scripts/mesh/dev-secrets.js";
import { REPO } from "../scripts/mesh/mesh.js";
import { zaloPayMac, type ZaloPayCredentials } from "../services/payments/src/providers/zalopay.js";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient } from "../test/support/graphql-client.js";
import { cpuBetween, formatCpuPerUnit, meshCpu } from "./mesh-cpu.js";
import { fmtMs, numberArg, pct, say, startBenchMesh } from "./support.js";

const throughputOrders = numberArg("orders", 3000);
const duration = numberArg("duration", 10);
const connections = numberArg("connections", 32);
const rate = numberArg("rate", 100);
const seconds = numberArg("seconds", 9);
const base = Number(process.env.LSP_PORT_BASE ?? 6400);
const generatorCpus = process.env.BENCH_GENERATOR_CPUS ?? "1";
const steadyN = Math.round(rate * seconds);
if (steadyN > 998) throw new Error("at most 998 steady-rate callbacks (quantities 2..999 tell them apart)");
// The benchmark measures the payment path, not the per-merchant and per-caller limits.
process.env.WEBHOOK_MERCHANT_RATE = "1000000";
process.env.WEBHOOK_MERCHANT_BURST = "1000000";
process.env.EDGE_RATE_LIMIT_MAX = "100000000";

for (const tool of ["wrk", "taskset"])
  try {
    execFileSync("which", [tool], { stdio: "ignore" });
  } catch {
    throw new Error(`${tool} is not installed (apt-get install wrk util-linux)`);
  }

const demo = JSON.parse(readFileSync(path.join(REPO, "demo", "demo-data.json"), "utf8")) as {
  tenants: { id: string; slug: string }[];
};
const phoBoTenant = demo.tenants.find((t) => t.slug === DEMO.phoBo.slug)?.id ?? "";
const creds = JSON.parse(
  merchantSecrets()[`payments-zalopay-${phoBoTenant}`] ?? "null",
) as ZaloPayCredentials | null;
if (!creds) throw new Error("no ZaloPay credentials for Phở Bò in the mesh's dev secrets");

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

let zpTransId = 7_000_000_000;
/** ZaloPay's signed callback for one payment (the provider's side), as the body it POSTs. */
function signedCallback(reference: string, amount: number): string {
  const data = JSON.stringify({
    app_id: Number(creds?.appId),
    app_trans_id: reference,
    app_time: Date.now(),
    app_user: "bench",
    amount,
    embed_data: "{}",
    item: "[]",
    zp_trans_id: zpTransId++,
    server_time: Date.now(),
    channel: 38,
    merchant_user_id: "bench",
    user_fee_amount: 0,
    discount_amount: 0,
  });
  return JSON.stringify({ data, mac: zaloPayMac(creds?.key2 ?? "", data), type: 1 });
}

// wrk's script: each thread takes every n-th pre-signed body (so no body is sent twice), counts
// first acceptances (return_code 1) and everything else, and says when it ran out of bodies.
const WRK_SCRIPT = String.raw`
local threads = {}
local count = 0
function setup(thread)
  count = count + 1
  thread:set("me", count)
  table.insert(threads, thread)
end
function init(args)
  bodies = {}
  local n, i = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if i % n == me - 1 then table.insert(bodies, line) end
    i = i + 1
  end
  sent, accepted, other, exhausted = 0, 0, 0, 0
end
function request()
  sent = sent + 1
  if sent > #bodies then exhausted = 1 end
  local body = bodies[((sent - 1) % #bodies) + 1]
  return wrk.format("POST", nil, { ["content-type"] = "application/json" }, body)
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"return_code":1', 1, true) then
    accepted = accepted + 1
  else
    other = other + 1
  end
end
function done(summary, latency, requests)
  local a, o, e = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepted"); o = o + t:get("other"); e = e + t:get("exhausted")
  end
  io.write(string.format("RESULT accepted=%d other=%d exhausted=%d p50_us=%d p99_us=%d duration_us=%d\n",
    a, o, e, latency:percentile(50), latency:percentile(99), summary.duration))
end
`;

// The open-loop sender (plain Node, no TypeScript loader, so that it stays lean): sends each body
// at start + i / rate, whatever the replies, and prints one JSON line per reply, then its CPU use.
const SENDER = String.raw`
const [file, url, rate] = process.argv.slice(1);
const items = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
const now = () => performance.timeOrigin + performance.now();
const cpu0 = process.cpuUsage();
const t0 = now() + 200;
let pending = items.length;
items.forEach((item, i) => {
  setTimeout(async () => {
    const sentAt = now();
    let status = 0, accepted = false;
    try {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: item.body });
      status = res.status;
      accepted = status === 200 && (await res.text()).includes('"return_code":1');
    } catch {}
    process.stdout.write(JSON.stringify({ quantity: item.quantity, sentAt, repliedAt: now(), status, accepted }) + "\n");
    if (--pending === 0) {
      const used = process.cpuUsage(cpu0);
      process.stdout.write(JSON.stringify({ cpuMs: (used.user + used.system) / 1000, wallMs: now() - t0 }) + "\n");
    }
  }, Math.max(0, t0 + (i * 1000) / Number(rate) - now()));
});
`;

/** `taskset -c <cpus> <cmd>` with the children's CPU time (bash's `times`) reported after it. */
function pinned(cmd: string[]): Promise<{ stdout: string; cpuSeconds: number; wallSeconds: number }> {
  const quoted = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("bash", ["-c", `taskset -c ${generatorCpus} ${quoted}; times`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${cmd[0]} exited with ${code}`));
      // `times`: the shell's user/sys line, then its children's ("0m1.234s 0m0.567s").
      const lines = stdout.trim().split("\n");
      const children = lines.at(-1) ?? "";
      const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
        (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
        0,
      );
      resolve({
        stdout: lines.slice(0, -2).join("\n"),
        cpuSeconds: secs,
        wallSeconds: (performance.now() - started) / 1000,
      });
    });
  });
}

const mesh = await startBenchMesh(`bench-${base}`, base);
const dir = mkdtempSync(path.join(os.tmpdir(), "lsp-webhook-load-"));
try {
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const webhookUrl = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks/zalopay`;

  /** An open order of `quantity` × Trà đá with a started ZaloPay payment, and its signed callback. */
  const prepare = async (quantity: number) => {
    const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
      input: {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: randomUUID(),
        paymentMethod: "zalopay",
        lines: [{ itemId: DEMO.phoBo.traDa, quantity }],
      },
    });
    const order = created.data?.createOrder;
    if (!order) throw new Error(JSON.stringify(created.errors));
    const started = await gql<{ startPayment: { reference: string } }>(
      `mutation ($o: ID!) { startPayment(orderId: $o, provider: zalopay) { reference } }`,
      { o: order.id },
    );
    const reference = started.data?.startPayment.reference;
    if (!reference) throw new Error(JSON.stringify(started.errors));
    return { quantity, body: signedCallback(reference, order.totalVnd) };
  };

  say(`preparing ${throughputOrders + steadyN} open orders with started payments…`);
  const bulk = await inPool(
    Array.from({ length: throughputOrders }, () => 1),
    8,
    prepare,
  );
  const steady = await inPool(
    Array.from({ length: steadyN }, (_, i) => i + 2),
    8,
    prepare,
  );
  const bodiesFile = path.join(dir, "callbacks.txt");
  writeFileSync(bodiesFile, `${bulk.map((b) => b.body).join("\n")}\n`);
  const steadyFile = path.join(dir, "steady.json");
  writeFileSync(steadyFile, JSON.stringify(steady));
  const scriptFile = path.join(dir, "callbacks.lua");
  writeFileSync(scriptFile, WRK_SCRIPT);
  // Creating the orders set off their own downstream work (dashboard, ai): let it drain first.
  say("settling 20 s…");
  await new Promise((r) => setTimeout(r, 20_000));

  // (1) Throughput: wrk, two threads, fixed time.
  say(`throughput: wrk, ${connections} connections, ${duration} s, ${throughputOrders} distinct callbacks…`);
  const wrk = await pinned([
    "wrk",
    "-t2",
    `-c${connections}`,
    `-d${duration}s`,
    "--timeout",
    "10s",
    "-s",
    scriptFile,
    webhookUrl,
    "--",
    bodiesFile,
    "2",
  ]);
  const result =
    /RESULT accepted=(\d+) other=(\d+) exhausted=(\d+) p50_us=(\d+) p99_us=(\d+) duration_us=(\d+)/.exec(
      wrk.stdout,
    );
  if (!result) throw new Error(`no result from wrk:\n${wrk.stdout}`);
  const [accepted = 0, other = 0, exhausted = 0, p50us = NaN, p99us = NaN, durationUs = NaN] = result
    .slice(1)
    .map(Number);

  say("settling 20 s…");
  await new Promise((r) => setTimeout(r, 20_000));

  // (2) Open-loop rate with the owner's live feed (GraphQL over SSE at the edge).
  const arrived = new Map<number, number>();
  let subscriptionError: unknown;
  const abort = new AbortController();
  const live = await fetch(mesh.edgeUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "text/event-stream",
      ...(await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug)),
    },
    body: JSON.stringify({ query: "subscription { notificationReceived { id title } }" }),
    signal: abort.signal,
  });
  const reader = live.body?.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = "";
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        const at = performance.timeOrigin + performance.now();
        buffer += chunk.value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const m = /×(\d+)/.exec(frame);
          if (frame.includes("event: next") && m) arrived.set(Number(m[1]), at);
          else if (frame.includes("errors")) subscriptionError = frame;
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) subscriptionError = err;
    }
  })();
  await new Promise((r) => setTimeout(r, 500));

  say(`open loop: ${steadyN} callbacks at ${rate}/s…`);
  // From the first callback to the last notification: what each payment costs every process of
  // the mesh, its downstream events included (sales, dashboard, ai, notifications).
  const cpuBefore = meshCpu(mesh.processes());
  const sender = await pinned([process.execPath, "-e", SENDER, steadyFile, webhookUrl, String(rate)]);
  const replies = sender.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map(
      (l) =>
        JSON.parse(l) as {
          quantity?: number;
          sentAt?: number;
          repliedAt?: number;
          accepted?: boolean;
          cpuMs?: number;
          wallMs?: number;
        },
    );
  const sent = replies.filter((r) => r.quantity !== undefined);
  const senderCpu = replies.find((r) => r.cpuMs !== undefined);
  const deadline = performance.now() + 15_000;
  while (
    arrived.size < sent.filter((s) => s.accepted).length &&
    performance.now() < deadline &&
    !subscriptionError
  )
    await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  const cpuPerWebhook = formatCpuPerUnit(
    cpuBetween(cpuBefore, meshCpu(mesh.processes())),
    Math.max(1, sent.filter((s) => s.accepted).length),
    "webhook",
  );

  const replyMs = sent.map((s) => (s.repliedAt ?? 0) - (s.sentAt ?? 0));
  const toFeed = sent.flatMap((s) => {
    const at = arrived.get(s.quantity ?? -1);
    return at === undefined || !s.accepted ? [] : [at - (s.repliedAt ?? 0)];
  });
  const share = (cpu: number, wall: number) => `${((100 * cpu) / wall).toFixed(0)}% of one core`;
  const lines = [
    `payment webhooks (ZaloPay callbacks through the edge), mesh on port base ${base}, ${new Date().toISOString()}`,
    `generators pinned to CPU ${generatorCpus} of ${os.cpus().length}`,
    `throughput (wrk -t2 -c${connections} -d${duration}s): ${accepted} accepted, ${other} other replies in ${(durationUs / 1e6).toFixed(2)} s = ${(accepted / (durationUs / 1e6)).toFixed(0)} webhooks/s accepted`,
    `  reply (wrk): p50 ${fmtMs(p50us / 1000)}  p99 ${fmtMs(p99us / 1000)}`,
    `  wrk used ${share(wrk.cpuSeconds, wrk.wallSeconds)}${exhausted ? `; RAN OUT of distinct callbacks (raise --orders): the rate is a lower bound` : ""}`,
    `open loop ${rate}/s × ${seconds} s: ${sent.filter((s) => s.accepted).length}/${steadyN} accepted`,
    `  reply at the edge:             p50 ${fmtMs(pct(replyMs, 50))}  p99 ${fmtMs(pct(replyMs, 99))}`,
    toFeed.length
      ? `  reply → notificationReceived:  p50 ${fmtMs(pct(toFeed, 50))}  p99 ${fmtMs(pct(toFeed, 99))}  (${toFeed.length}/${steadyN} received)`
      : `  reply → notificationReceived: not measured — no events (${JSON.stringify(subscriptionError ?? "none received")})`,
    `  who holds the cores, from the first callback to the last notification: ${cpuPerWebhook}`,
    `  sender used ${senderCpu?.cpuMs !== undefined && senderCpu.wallMs ? share(senderCpu.cpuMs, senderCpu.wallMs) : "?"}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await mesh.stop();
}
