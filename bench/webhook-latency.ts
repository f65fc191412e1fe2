// Benchmark of the payment path (issue 5). Prints:
//  - steady rate (default 100 MoMo webhooks/s): the webhook reply time at the edge, and the time
//    from the webhook's 204 to the owner's `notificationReceived` event (SSE), p50/p99
//    (webhook → edge → payments → outbox → pub/sub → notifications → outbox → pub/sub → edge → SSE);
//  - webhook throughput: accepted webhooks per second with many in flight.
// Every webhook is for its own open order (Trà đá × n, so the notification names n and each event
// is matched to its webhook). Runs its own mesh on LSP_PORT_BASE (default 4900).
// Usage: npx tsx bench/webhook-latency.ts [--rate 100] [--seconds 9] [--throughput 1000] [--concurrency 64]
import { randomUUID } from "node:crypto";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient } from "../test/support/graphql-client.js";
import { signMomoIpn } from "../services/payments/src/providers/momo.js";
import { momoCredentials } from "../test/support/momo.js";
import { fmtMs, numberArg, pct, say, startBenchMesh } from "./support.js";

const rate = numberArg("rate", 100);
const seconds = numberArg("seconds", 9);
const throughputN = numberArg("throughput", 1000);
const concurrency = numberArg("concurrency", 64);
const base = Number(process.env.LSP_PORT_BASE ?? 4900);
const steadyN = Math.round(rate * seconds);
if (steadyN > 998)
  throw new Error("at most 998 steady-rate webhooks (order quantities 2..999 tell them apart)");

const fmt = (ms: number) => fmtMs(ms);

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
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

const mesh = await startBenchMesh(`bench-${base}`, base);
try {
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const creds = momoCredentials(mesh);
  const webhookUrl = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks/momo`;

  /** An open order of `quantity` × Trà đá with a started MoMo payment. */
  const prepare = async (quantity: number) => {
    const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
      input: {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: randomUUID(),
        paymentMethod: "momo",
        lines: [{ itemId: DEMO.phoBo.traDa, quantity }],
      },
    });
    const order = created.data?.createOrder;
    if (!order) throw new Error(JSON.stringify(created.errors));
    const started = await gql<{ startPayment: { reference: string } }>(
      `mutation ($o: ID!) { startPayment(orderId: $o, provider: momo) { reference } }`,
      { o: order.id },
    );
    const reference = started.data?.startPayment.reference;
    if (!reference) throw new Error(JSON.stringify(started.errors));
    return { quantity, reference, amount: order.totalVnd };
  };
  let txn = 5_000_000_000;
  const send = async (p: { reference: string; amount: number }) => {
    const ipn = signMomoIpn(creds, {
      partnerCode: creds.partnerCode,
      orderId: p.reference,
      requestId: `${p.reference}-r`,
      amount: p.amount,
      orderInfo: "bench",
      orderType: "momo_wallet",
      transId: txn++,
      resultCode: 0,
      message: "Successful.",
      payType: "qr",
      responseTime: Date.now(),
      extraData: "",
    });
    const t0 = performance.now();
    const res = await fetch(webhookUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ipn),
    });
    await res.arrayBuffer();
    return { t0, t1: performance.now(), status: res.status };
  };

  say(`preparing ${steadyN + throughputN} open orders with started payments…`);
  const steady = await pool(
    Array.from({ length: steadyN }, (_, i) => i + 2),
    8,
    prepare,
  );
  const bulk = await pool(
    Array.from({ length: throughputN }, () => 1),
    8,
    prepare,
  );
  // Creating the orders set off their own downstream work (dashboard, ai); let it drain first.
  say("settling 20 s…");
  await new Promise((r) => setTimeout(r, 20_000));

  // The owner's live feed (GraphQL over SSE, as served by the edge); each event names the order's
  // quantity (×n), which matches it to its webhook.
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
        const at = performance.now();
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

  say(`steady: ${steadyN} webhooks at ${rate}/s…`);
  const sent: { quantity: number; t0: number; t1: number; status: number }[] = [];
  const start = performance.now();
  await Promise.all(
    steady.map(async (p, i) => {
      const due = start + (i * 1000) / rate;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      sent.push({ quantity: p.quantity, ...(await send(p)) });
    }),
  );
  const deadline = performance.now() + 15_000;
  while (arrived.size < steadyN && performance.now() < deadline && !subscriptionError)
    await new Promise((r) => setTimeout(r, 50));

  // Let the downstream work of the steady phase drain (and any open circuit breaker reset).
  say("settling 20 s…");
  await new Promise((r) => setTimeout(r, 20_000));
  say(`throughput: ${throughputN} webhooks, ${concurrency} in flight…`);
  const tp0 = performance.now();
  const bulkResults = await pool(bulk, concurrency, send);
  const tpSeconds = (performance.now() - tp0) / 1000;
  abort.abort();

  const replies = sent.map((s) => s.t1 - s.t0);
  const toSubscription = sent.flatMap((s) => {
    const at = arrived.get(s.quantity);
    return at === undefined ? [] : [at - s.t1];
  });
  const accepted = bulkResults.filter((r) => r.status === 204).length;
  const lines = [
    `payment webhooks (MoMo IPN through the edge), mesh on port base ${base}, ${new Date().toISOString()}`,
    `steady ${rate}/s × ${seconds} s: ${sent.filter((s) => s.status === 204).length}/${steadyN} accepted (204)`,
    `  webhook reply at the edge:          p50 ${fmt(pct(replies, 50))}  p99 ${fmt(pct(replies, 99))}`,
    toSubscription.length
      ? `  webhook 204 → notificationReceived: p50 ${fmt(pct(toSubscription, 50))}  p99 ${fmt(pct(toSubscription, 99))}  (${toSubscription.length}/${steadyN} events received)`
      : `  webhook 204 → notificationReceived: not measured — no subscription events (${JSON.stringify(subscriptionError ?? "none received")})`,
    `throughput: ${accepted}/${throughputN} accepted in ${tpSeconds.toFixed(2)} s = ${(accepted / tpSeconds).toFixed(0)} webhooks/s (${concurrency} in flight)`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await mesh.stop();
}
