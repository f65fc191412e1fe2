// The outbox relay on a private PostgreSQL against a fake sidecar (an HTTP server speaking Dapr's
// bulk publish API, which can refuse entries): batches, per-aggregate order, partial failures,
// LISTEN/NOTIFY wake-ups and one relay per schema.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { startTestPostgres, type TestPostgres } from "../../../test/support/postgres.js";
import { eventually } from "../../../test/support/graphql-client.js";
import { bulkPublishEvents } from "@lsp/dapr";
import {
  createDatabase,
  createOutboxTable,
  enqueueEvent,
  startOutboxRelay,
  type Database,
  type OutboxTable,
} from "./index.js";
import { createLogger } from "@lsp/runtime";
import { orderingKeyOf, relayRound, wavesOf } from "./outbox.js";

const log = createLogger("test", "silent");
const TENANT = randomUUID();
const LOCATION = randomUUID();

interface Received {
  topic: string;
  request: number;
  id: string;
  type: string;
  orderId: string | undefined;
  seq: number | undefined;
  traceparent: string | undefined;
  header: string | undefined;
}

/**
 * A sidecar that records what it accepts, in arrival order. `refuse(entry)` names an entry to
 * report as failed (Dapr's 500 with failedEntries); `refuseAll` answers 403 to whole requests.
 */
function fakeSidecar() {
  const received: Received[] = [];
  let requests = 0;
  const state = {
    refuse: (_e: { id: string }) => false,
    refuseAll: false,
  };
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => {
      const match = /^\/v1\.0\/publish\/bulk\/pubsub\/([a-z-]+)$/.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return res.writeHead(404).end();
      if (state.refuseAll)
        return res
          .writeHead(403, { "content-type": "application/json" })
          .end(JSON.stringify({ errorCode: "ERR_PUBSUB_FORBIDDEN", message: "topic not allowed" }));
      const request = requests++;
      const entries = JSON.parse(text) as {
        entryId: string;
        contentType: string;
        event: { id: string; type: string; traceparent?: string; data: { orderId?: string; seq?: number } };
      }[];
      const failed = entries.filter((e) => state.refuse(e.event));
      for (const e of entries) {
        assert.equal(e.contentType, "application/cloudevents+json");
        assert.equal(e.entryId, e.event.id);
        if (failed.includes(e)) continue;
        received.push({
          topic: match[1] ?? "",
          request,
          id: e.event.id,
          type: e.event.type,
          orderId: e.event.data.orderId,
          seq: e.event.data.seq,
          traceparent: e.event.traceparent,
          header: req.headers.traceparent as string | undefined,
        });
      }
      if (failed.length === 0) return res.writeHead(204).end();
      res.writeHead(500, { "content-type": "application/json" }).end(
        JSON.stringify({
          failedEntries: failed.map((e) => ({ entryId: e.entryId, error: "broker said no" })),
          errorCode: "ERR_PUBSUB_PUBLISH_MESSAGE",
        }),
      );
    });
  });
  return { server, received, state, requests: () => requests };
}

describe("outbox relay", { timeout: 120_000 }, () => {
  let server: TestPostgres;
  let database: Database<OutboxTable>;
  const sidecar = fakeSidecar();
  let ports: { DAPR_HTTP_PORT: number; DAPR_GRPC_PORT: number };

  before(async () => {
    server = await startTestPostgres();
    const owner = createDatabase<unknown>(server.migrationUrl("sales"), "sales", 1);
    await createOutboxTable(owner.db);
    await sql`GRANT SELECT, INSERT, UPDATE ON outbox TO svc_sales`.execute(owner.db);
    await owner.db.destroy();
    database = createDatabase<OutboxTable>(server.serviceUrl("sales"), "sales", 6);
    await new Promise<void>((r) => sidecar.server.listen(0, "127.0.0.1", r));
    ports = { DAPR_HTTP_PORT: (sidecar.server.address() as AddressInfo).port, DAPR_GRPC_PORT: 1 };
  });
  after(async () => {
    sidecar.server.close();
    await database?.db.destroy();
    await server?.stop();
  });
  beforeEach(async () => {
    await sql`DELETE FROM outbox`.execute(database.db);
    sidecar.received.length = 0;
    sidecar.state.refuse = () => false;
    sidecar.state.refuseAll = false;
  });

  /** An order's event; `seq` (an extra payload field, passed through as is) numbers it within its order. */
  async function write(orderId: string, seq: number) {
    await database.db.transaction().execute(async (trx) => {
      const id = await enqueueEvent(trx, "order.paid", {
        orderId,
        tenantId: TENANT,
        locationId: LOCATION,
        businessDay: "2026-11-29",
        paidAt: new Date().toISOString(),
        paymentMethod: "cash",
        totalVnd: 1000,
      });
      await sql`UPDATE outbox SET payload = payload || jsonb_build_object('seq', ${seq}::int) WHERE id = ${id}`.execute(
        trx,
      );
    });
  }

  const unpublished = async () =>
    Number(
      (
        await sql<{ n: string }>`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`.execute(
          database.db,
        )
      ).rows[0]?.n,
    );

  const opts = () => ({ db: database.db, pool: database.pool, ports, source: "sales", log });

  test("waves: the n-th pending event of every aggregate, in the order written", () => {
    const row = (id: string, orderId?: string) => ({ id, payload: orderId ? { orderId } : { other: 1 } });
    const rows = [row("1", "a"), row("2", "b"), row("3", "a"), row("4"), row("5", "a"), row("6", "b")];
    assert.deepEqual(
      wavesOf(rows).map((w) => w.map((r) => r.id)),
      [["1", "2", "4"], ["3", "6"], ["5"]],
    );
    assert.equal(orderingKeyOf(row("4")), "event:4");
    assert.equal(
      orderingKeyOf({ id: "x", payload: { notificationId: "n", userId: "u" } }),
      "notificationId:n",
    );
  });

  test("a burst is woken by NOTIFY alone (no poll), published in bulk, nothing lost or doubled, each order's events in order", async () => {
    // The poll is an hour: only the commits' notifications can wake the relay.
    const stop = startOutboxRelay({ ...opts(), pollMs: 3_600_000, batchSize: 100 });
    try {
      const orders = Array.from({ length: 30 }, () => randomUUID());
      const PER_ORDER = 8;
      // Writers side by side: each order's events written in sequence, the orders interleaved.
      await Promise.all(
        orders.map(async (orderId) => {
          for (let seq = 0; seq < PER_ORDER; seq++) await write(orderId, seq);
        }),
      );
      await eventually("all published", async () => ((await unpublished()) === 0 ? true : undefined));
      assert.equal(sidecar.received.length, orders.length * PER_ORDER);
      assert.equal(new Set(sidecar.received.map((r) => r.id)).size, sidecar.received.length, "no duplicates");
      for (const orderId of orders) {
        const mine = sidecar.received.filter((r) => r.orderId === orderId);
        assert.deepEqual(
          mine.map((r) => r.seq),
          Array.from({ length: PER_ORDER }, (_, i) => i),
          `order ${orderId} arrived in the order written`,
        );
        // Never two events of one order in one bulk request (Dapr may publish a request's entries in any order).
        assert.equal(new Set(mine.map((r) => r.request)).size, PER_ORDER);
      }
      assert.ok(
        sidecar.requests() < sidecar.received.length / 2,
        `batched: ${sidecar.requests()} requests for ${sidecar.received.length} events`,
      );
    } finally {
      await stop();
    }
  });

  test("entries the sidecar refuses stay unpublished, and so do their aggregate's later events; the rest are marked", async () => {
    const a = randomUUID();
    const b = randomUUID();
    await write(a, 0);
    await write(b, 0);
    await write(a, 1);
    await write(b, 1);
    const firstOfA = (
      await sql<{
        id: string;
      }>`SELECT id FROM outbox WHERE payload->>'orderId' = ${a} ORDER BY created_at LIMIT 1`.execute(
        database.db,
      )
    ).rows[0]?.id;
    sidecar.state.refuse = (e) => e.id === firstOfA;

    const round = await relayRound(opts());
    assert.deepEqual(round, { published: 2, failed: 1, deferred: 1, ran: true });
    assert.deepEqual(
      sidecar.received.map((r) => [r.orderId, r.seq]),
      [
        [b, 0],
        [b, 1],
      ],
    );
    const left = await sql<{ order_id: string; seq: number }>`
      SELECT payload->>'orderId' AS order_id, (payload->>'seq')::int AS seq FROM outbox
      WHERE published_at IS NULL ORDER BY created_at`.execute(database.db);
    assert.deepEqual(
      left.rows.map((r) => [r.order_id, r.seq]),
      [
        [a, 0],
        [a, 1],
      ],
    );

    // The broker is back: A's events go, still in order, and B's are not sent again.
    sidecar.state.refuse = () => false;
    assert.deepEqual(await relayRound(opts()), { published: 2, failed: 0, deferred: 0, ran: true });
    assert.deepEqual(
      sidecar.received.map((r) => [r.orderId, r.seq]),
      [
        [b, 0],
        [b, 1],
        [a, 0],
        [a, 1],
      ],
    );
  });

  test("a request the sidecar refuses whole (403: topic not allowed) marks nothing", async () => {
    await write(randomUUID(), 0);
    sidecar.state.refuseAll = true;
    const round = await relayRound(opts());
    assert.deepEqual(round, { published: 0, failed: 1, deferred: 0, ran: true });
    assert.equal(await unpublished(), 1);
  });

  test("one relay per schema at a time: while another holds the outbox, a round does nothing", async () => {
    await write(randomUUID(), 0);
    const other = await database.pool.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT pg_advisory_xact_lock(hashtext('lsp_outbox:' || current_schema()))");
      assert.deepEqual(await relayRound(opts()), { published: 0, failed: 0, deferred: 0, ran: false });
      assert.equal(sidecar.received.length, 0);
    } finally {
      await other.query("ROLLBACK");
      other.release();
    }
    assert.equal((await relayRound(opts())).published, 1);
  });

  test("trace context: one writer's events are published in its trace; a mixed batch carries each writer's traceparent", async () => {
    const t1 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const t2 = "00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-01";
    const a = randomUUID();
    const b = randomUUID();
    await write(a, 0);
    await write(b, 0);
    await sql`UPDATE outbox SET traceparent = CASE WHEN payload->>'orderId' = ${a} THEN ${t1} ELSE ${t2} END`.execute(
      database.db,
    );
    await relayRound(opts());
    assert.deepEqual(sidecar.received.map((r) => r.traceparent).sort(), [t1, t2]);
  });

  test("bulk publish: an unreachable sidecar fails every entry; ids must be unique", async () => {
    const closed = { DAPR_HTTP_PORT: 1, DAPR_GRPC_PORT: 1 };
    const result = await bulkPublishEvents(closed, "pubsub", "orders", [
      { entryId: "a", cloudEvent: { id: "a" } },
      { entryId: "b", cloudEvent: { id: "b" } },
    ]);
    assert.deepEqual(result.accepted, []);
    assert.deepEqual(
      result.failed.map((f) => f.entryId),
      ["a", "b"],
    );
    await assert.rejects(
      bulkPublishEvents(ports, "pubsub", "orders", [
        { entryId: "a", cloudEvent: {} },
        { entryId: "a", cloudEvent: {} },
      ]),
      /unique/,
    );
  });
});
