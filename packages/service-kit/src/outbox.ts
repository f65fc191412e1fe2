import { context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { sql, type Kysely, type Transaction } from "kysely";
import type pg from "pg";
import { EVENTS, PUBSUB_NAME, type EventPayload, type EventType } from "@lsp/contracts";
import { publishEvent, type SidecarPorts } from "./dapr.js";
import type { Logger } from "./logger.js";

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

const CHANNEL = "lsp_outbox";

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

/** Adds an event to the outbox inside the caller's transaction; returns the event (CloudEvent) id. */
export async function enqueueEvent<DB extends OutboxTable, T extends EventType>(
  trx: Transaction<DB>,
  type: T,
  payload: EventPayload<T>,
): Promise<string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const t = trx as unknown as Transaction<OutboxTable>;
  const row = await t
    .insertInto("outbox")
    .values({
      type,
      topic: EVENTS[type].topic,
      payload: JSON.stringify(EVENTS[type].schema.parse(payload)),
      traceparent: carrier.traceparent ?? null,
    } as never)
    .returning("id")
    .executeTakeFirstOrThrow();
  // Delivered to listeners only when the transaction commits.
  await sql`SELECT pg_notify(${CHANNEL}, '')`.execute(t);
  return row.id;
}

interface RelayOptions<DB extends OutboxTable = OutboxTable> {
  db: Kysely<DB>;
  pool: pg.Pool;
  ports: SidecarPorts;
  source: string;
  log: Logger;
  pollMs?: number;
  batchSize?: number;
}

/** Publishes one outbox row as a CloudEvent whose id is the row id (consumers dedupe on it). */
async function publishRow<DB extends OutboxTable>(
  row: OutboxTable["outbox"],
  opts: RelayOptions<DB>,
): Promise<void> {
  const body = JSON.stringify({
    specversion: "1.0",
    id: row.id,
    source: opts.source,
    type: row.type,
    time: row.created_at.toISOString(),
    datacontenttype: "application/json",
    data: row.payload,
  });
  // Continue the trace of the request that wrote the row: the sidecar's publish span and the
  // subscriber's span become its children.
  const parent = row.traceparent
    ? propagation.extract(ROOT_CONTEXT, { traceparent: row.traceparent })
    : ROOT_CONTEXT;
  await context.with(parent, () => publishEvent(opts.ports, PUBSUB_NAME, row.topic, body));
}

/**
 * Drains the outbox: woken by NOTIFY on commit (low latency) and by a poll (for anything missed
 * while the listener reconnects or the sidecar was down). Rows are locked with SKIP LOCKED so
 * several replicas can relay side by side. Returns a stop function.
 */
export function startOutboxRelay<DB extends OutboxTable>(opts: RelayOptions<DB>): () => Promise<void> {
  const { pool, log } = opts;
  // Kysely's table typing is invariant; the relay only touches the outbox table.
  const db = opts.db as unknown as Kysely<OutboxTable>;
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let listener: pg.PoolClient | undefined;

  const drainOnce = async (): Promise<number> =>
    db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom("outbox")
        .selectAll()
        .where("published_at", "is", null)
        .orderBy("created_at")
        .limit(opts.batchSize ?? 100)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of rows) {
        await publishRow(row, opts);
        await trx.updateTable("outbox").set({ published_at: new Date() }).where("id", "=", row.id).execute();
      }
      return rows.length;
    });

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
          while (!stopped && (await drainOnce()) > 0);
        } while (again && !stopped);
      } catch (err) {
        log.warn({ err }, "outbox relay: publish failed; will retry");
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
      await listener.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      log.warn({ err }, "outbox relay: cannot LISTEN; polling only");
    }
  };
  void listen();
  const timer = setInterval(kick, opts.pollMs ?? 1000);
  kick();

  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
    listener?.release();
  };
}
