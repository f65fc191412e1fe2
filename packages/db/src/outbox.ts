import { randomUUID } from "node:crypto";
import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { sql, type Kysely, type Transaction } from "kysely";
import type pg from "pg";
import { Counter, Histogram } from "prom-client";
import { EVENTS, PUBSUB_NAME, type EventPayload, type EventType } from "@lsp/contracts";
import { bulkPublishEvents, type BulkPublishResult, type SidecarPorts } from "@lsp/dapr";
import { registry, type Logger } from "@lsp/runtime";

/**
 * Transactional outbox: an event is inserted in the same transaction as the rows it describes
 * and published by the relay after commit, so nothing is lost and nothing is sent for a
 * rolled-back write. The table holds every tenant's events and is read only by the relay, so it
 * carries no row-level security.
 */
export interface OutboxTable {
  outbox: {
    id: string;
    type: string;
    topic: string;
    payload: unknown;
    traceparent: string | null;
    created_at: Date;
    published_at: Date | null;
  };
}

/**
 * The relay's wake-up channel, one per schema (all services share one database, and a NOTIFY
 * reaches every listener of its channel in the database): `lsp_outbox_<schema>`.
 */
const CHANNEL_PREFIX = "lsp_outbox_";

export async function createOutboxTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("outbox")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("topic", "text", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("traceparent", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn("published_at", "timestamptz")
    .execute();
  await sql`CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL`.execute(
    db,
  );
}

/**
 * Adds an event to the outbox inside the caller's transaction; returns the event (CloudEvent) id.
 * One statement: the row and the wake-up of the relay (NOTIFY is delivered only when the
 * transaction commits, and one per transaction however many events it adds: PostgreSQL folds
 * identical notifications), so the writer's transaction pays one round trip per event.
 */
export async function enqueueEvent<DB extends OutboxTable, T extends EventType>(
  trx: Transaction<DB>,
  type: T,
  payload: EventPayload<T>,
): Promise<string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const id = randomUUID();
  const body = JSON.stringify(EVENTS[type].schema.parse(payload));
  await sql`INSERT INTO outbox (id, type, topic, payload, traceparent)
    SELECT ${id}::uuid, ${type}, ${EVENTS[type].topic}, ${body}::jsonb, ${carrier.traceparent ?? null}
    FROM (SELECT pg_notify(${CHANNEL_PREFIX} || current_schema(), '')) AS wake`.execute(trx);
  return id;
}

/**
 * What orders an event among others: the first of these payload fields it has (order and payment
 * events: the order; menu: the item; a feed entry: itself; then the user, then the location). Two
 * events with the same key are published in the order they were written; events with different
 * keys in any order. An event with none of them is ordered with nothing.
 */
const ORDERING_FIELDS = [
  "orderId",
  "itemId",
  "notificationId",
  "recommendationId",
  "anomalyId",
  "userId",
  "locationId",
] as const;

export function orderingKeyOf(row: Pick<OutboxRow, "id" | "payload">): string {
  const payload = row.payload as Record<string, unknown> | null;
  if (payload && typeof payload === "object")
    for (const field of ORDERING_FIELDS) {
      const value = payload[field];
      if (typeof value === "string" && value !== "") return `${field}:${value}`;
    }
  return `event:${row.id}`;
}

type OutboxRow = OutboxTable["outbox"];

/**
 * Splits rows (in the order they were written) into waves: wave n holds the n-th pending event of
 * every ordering key. Each wave is published only after the one before was accepted, so two
 * events of one aggregate never race inside one bulk request (Dapr publishes a bulk request to
 * Redis as parallel single publishes, in no order).
 */
export function wavesOf<R extends Pick<OutboxRow, "id" | "payload">>(rows: readonly R[]): R[][] {
  const depth = new Map<string, number>();
  const waves: R[][] = [];
  for (const row of rows) {
    const key = orderingKeyOf(row);
    const n = depth.get(key) ?? 0;
    depth.set(key, n + 1);
    (waves[n] ??= []).push(row);
  }
  return waves;
}

export interface RelayOptions<DB extends OutboxTable = OutboxTable> {
  db: Kysely<DB>;
  pool: pg.Pool;
  ports: SidecarPorts;
  source: string;
  log: Logger;
  /**
   * The safety-net poll (ms): NOTIFY wakes the relay on every commit; the poll only catches what
   * a lost listener connection or a sidecar that refused a publish left behind.
   */
  pollMs?: number;
  /** Rows read per round (one transaction), published in waves of bulk requests per topic. */
  batchSize?: number;
}

const relayEvents = new Counter({
  name: "outbox_relay_events_total",
  help: "Outbox events by what the sidecar did with them: published, failed (retried later) or deferred (an earlier event of the same aggregate failed)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});
const relayBatchEvents = new Histogram({
  name: "outbox_relay_bulk_request_events",
  help: "Events per bulk publish request",
  buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
  registers: [registry],
});
const relayLagSeconds = new Histogram({
  name: "outbox_relay_lag_seconds",
  help: "Time from an event's insert to the sidecar accepting it",
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

function cloudEventOf(row: OutboxRow, source: string, withTrace: boolean): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: row.id,
    source,
    type: row.type,
    time: row.created_at.toISOString(),
    datacontenttype: "application/json",
    data: row.payload,
    // Dapr keeps a traceparent the event already carries (FromCloudEvent), and the subscriber's
    // sidecar continues it: the consumer's span descends from the request that wrote the row.
    ...(withTrace && row.traceparent ? { traceid: row.traceparent, traceparent: row.traceparent } : {}),
  };
}

/**
 * Publishes one topic's share of a wave as one bulk request. The trace: when every event of the
 * request comes from one request (a single event, or several from one transaction), the bulk
 * call is made in that trace, so the chain is writer → publishing sidecar → delivering sidecar →
 * consumer. When a batch mixes traces, each event carries its own writer's traceparent instead
 * (one HTTP call has one parent): the consumer still descends from the writer, only the
 * publishing sidecar's span (a child of the relay's own) is then not on the chain.
 */
async function publishTopic(
  rows: OutboxRow[],
  topic: string,
  opts: RelayOptions<OutboxTable>,
): Promise<BulkPublishResult> {
  const parents = new Set(rows.map((r) => r.traceparent));
  const oneTrace = parents.size === 1;
  const [only] = parents;
  const parent = oneTrace && only ? propagation.extract(ROOT_CONTEXT, { traceparent: only }) : ROOT_CONTEXT;
  relayBatchEvents.observe(rows.length);
  return context.with(parent, () =>
    bulkPublishEvents(
      opts.ports,
      PUBSUB_NAME,
      topic,
      rows.map((r) => ({ entryId: r.id, cloudEvent: cloudEventOf(r, opts.source, !oneTrace) })),
    ),
  );
}

/** What one round did. */
export interface RoundReport {
  published: number;
  failed: number;
  deferred: number;
  /** False when another replica holds the outbox (it drains; this one waits for the next wake). */
  ran: boolean;
}

/**
 * One round of the relay, in one transaction: read up to `batchSize` unpublished rows in the
 * order they were written, publish them wave by wave (one bulk request per topic and wave, the
 * topics of a wave side by side), and mark published exactly the rows the sidecar accepted. A
 * row the sidecar refused stays unpublished, and so do the later rows of its aggregate (they
 * would overtake it); both go again next round. A crash after the sidecar accepted and before
 * the commit publishes those rows again: delivery is at least once, and every consumer dedupes
 * on the event id (the row id).
 *
 * One replica drains at a time (a transaction-scoped advisory lock per schema): with two relays,
 * one could take an aggregate's first event and the other its second. Bulk requests make one
 * relay fast enough; the others take over when it stops.
 */
export async function relayRound<DB extends OutboxTable>(opts: RelayOptions<DB>): Promise<RoundReport> {
  const o = opts as unknown as RelayOptions<OutboxTable>;
  return o.db.transaction().execute(async (trx) => {
    const lock = await sql<{
      locked: boolean;
    }>`SELECT pg_try_advisory_xact_lock(hashtext('lsp_outbox:' || current_schema())) AS locked`.execute(trx);
    if (!lock.rows[0]?.locked) return { published: 0, failed: 0, deferred: 0, ran: false };
    // Marking rows published need not wait for the disk: a crash that loses the mark publishes
    // the rows again, which consumers dedupe (the same as a crash between publish and commit).
    await sql`SET LOCAL synchronous_commit = off`.execute(trx);
    const rows = await trx
      .selectFrom("outbox")
      .selectAll()
      .where("published_at", "is", null)
      .orderBy("created_at")
      .orderBy("id")
      .limit(opts.batchSize ?? 500)
      .execute();
    const accepted: string[] = [];
    const blocked = new Set<string>();
    let failed = 0;
    let deferred = 0;
    for (const wave of wavesOf(rows)) {
      const ready = wave.filter((r) => !blocked.has(orderingKeyOf(r)));
      deferred += wave.length - ready.length;
      const byTopic = new Map<string, OutboxRow[]>();
      for (const r of ready) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      const results = await Promise.all(
        [...byTopic].map(async ([topic, group]) => ({ group, result: await publishTopic(group, topic, o) })),
      );
      for (const { group, result } of results) {
        const ok = new Set(result.accepted);
        for (const r of group) {
          if (ok.has(r.id)) {
            accepted.push(r.id);
            relayLagSeconds.observe((Date.now() - r.created_at.getTime()) / 1000);
          } else blocked.add(orderingKeyOf(r));
        }
        failed += result.failed.length;
        if (result.failed.length > 0)
          o.log.warn(
            { topic: group[0]?.topic, failed: result.failed.length, first: result.failed[0]?.error },
            "outbox relay: the sidecar did not take every event; they go again next round",
          );
      }
    }
    // One array parameter: the same prepared statement whatever the batch's size.
    if (accepted.length > 0)
      await sql`UPDATE outbox SET published_at = now() WHERE id = ANY(${accepted}::uuid[])`.execute(trx);
    relayEvents.inc({ outcome: "published" }, accepted.length);
    relayEvents.inc({ outcome: "failed" }, failed);
    relayEvents.inc({ outcome: "deferred" }, deferred);
    return { published: accepted.length, failed, deferred, ran: true };
  });
}

/**
 * Drains the outbox: woken by NOTIFY on commit (low latency) and by a slow poll (for anything
 * missed while the listener reconnects or the sidecar refused). Rounds follow each other while
 * they publish a full batch or the wake-ups keep coming; a round the sidecar refused in part
 * waits for the poll rather than spinning. Returns a stop function.
 */
export function startOutboxRelay<DB extends OutboxTable>(opts: RelayOptions<DB>): () => Promise<void> {
  const { pool, log } = opts;
  const batchSize = opts.batchSize ?? 500;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let listener: pg.PoolClient | undefined;

  const kick = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      try {
        do {
          again = false;
          for (;;) {
            if (stopped) break;
            const round = await relayRound({ ...opts, batchSize });
            // A full round may have left more behind; a refusal waits for the poll.
            if (!round.ran || round.failed > 0 || round.published + round.deferred < batchSize) break;
          }
        } while (again && !stopped);
      } catch (err) {
        log.warn({ err }, "outbox relay: round failed; will retry");
      } finally {
        running = undefined;
      }
    })();
  };

  const listen = async (): Promise<void> => {
    try {
      listener = await pool.connect();
      listener.on("notification", kick);
      listener.on("error", (err) => {
        log.warn({ err }, "outbox relay: listener lost; polling until it is back");
        listener?.release(true);
        listener = undefined;
        if (!stopped) setTimeout(() => void listen(), 1000).unref();
      });
      const schema = await listener.query<{ schema: string }>("SELECT current_schema() AS schema");
      const channel = `${CHANNEL_PREFIX}${schema.rows[0]?.schema ?? ""}`;
      // Schema names are plain identifiers (createDatabase checks them); quoted all the same.
      await listener.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
      // Anything committed before LISTEN took effect.
      kick();
    } catch (err) {
      log.warn({ err }, "outbox relay: cannot LISTEN; polling only");
      listener?.release(true);
      listener = undefined;
      if (!stopped) setTimeout(() => void listen(), 1000).unref();
    }
  };
  void listen();
  const timer = setInterval(kick, opts.pollMs ?? 5000);
  kick();

  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
    listener?.release();
    listener = undefined;
  };
}
