import { Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify";
import { Counter, Histogram } from "prom-client";
import type pg from "pg";
import QueryStream from "pg-query-stream";
import type { Express } from "express";
import { z } from "zod";
import { AppError, businessDayArg, registry, uuidArg, type Logger } from "@lsp/runtime";
import type { CallerOf } from "@lsp/identity";

// Per slice of a download (the edge counts whole downloads: edge_export_*), by export kind.
const exportRows = new Counter({
  name: "csv_export_rows_total",
  help: "Rows written into CSV export slices, by export kind",
  labelNames: ["kind"] as const,
  registers: [registry],
});
const exportBytes = new Counter({
  name: "csv_export_bytes_total",
  help: "Bytes of CSV (BOM and header included) written into export slices, by export kind",
  labelNames: ["kind"] as const,
  registers: [registry],
});
const exportSliceSeconds = new Histogram({
  name: "csv_export_slice_duration_seconds",
  help: "Time to stream one export slice, by export kind and outcome (ok, failed)",
  labelNames: ["kind", "outcome"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

/** One column of an export: its header and how a row's value is written. */
export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => string | number | boolean | null;
}

/** Rows a cursor fetches from PostgreSQL per round trip: memory stays flat whatever the range. */
const CURSOR_BATCH_ROWS = 1_000;

/**
 * A text cell Excel or LibreOffice would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
 * gets a leading apostrophe: menu item names and void reasons are typed by users, and an
 * accountant opens the file (OWASP "CSV injection"). Numbers are written as numbers.
 */
function safeText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/**
 * Streams the rows of one query as CSV into `out`: a PostgreSQL cursor (pg-query-stream) read
 * `CURSOR_BATCH_ROWS` at a time, each row turned into cells and quoted by csv-stringify, written
 * with backpressure, so the process holds one batch however many rows there are. The query runs
 * in a read-only transaction bound to `tenantId` (row-level security, as withTenant in db.ts).
 * `header` writes the UTF-8 byte-order mark (Excel then reads Vietnamese text as UTF-8) and the
 * header row: a download made of several slices has them in its first slice only. Resolves with
 * the number of rows written; a failure destroys `out` (the client sees a broken transfer, never
 * a short file that looks whole).
 */
export async function streamCsv<Row>(opts: {
  pool: pg.Pool;
  tenantId: string;
  text: string;
  values: unknown[];
  columns: readonly CsvColumn<Row>[];
  header: boolean;
  out: Writable;
  /** The session time zone (IANA) of the read: a query's to_char(timestamptz, '…TZH:TZM') writes local time. */
  timeZone?: string;
  /** Called with the byte length of each chunk written (export metrics). */
  onBytes?: (bytes: number) => void;
}): Promise<number> {
  const client = await opts.pool.connect();
  let rows = 0;
  let broken = false;
  try {
    await client.query("BEGIN READ ONLY");
    await client.query("SELECT set_config('lsp.tenant_id', $1, true), set_config('TimeZone', $2, true)", [
      opts.tenantId,
      opts.timeZone ?? "UTC",
    ]);
    const cursor = client.query(new QueryStream(opts.text, opts.values, { batchSize: CURSOR_BATCH_ROWS }));
    const toCells = new Transform({
      objectMode: true,
      transform(row: Row, _enc, done) {
        rows++;
        done(
          null,
          opts.columns.map((c) => {
            const v = c.value(row);
            return typeof v === "string" ? safeText(v) : v;
          }),
        );
      },
    });
    const csv = stringify({
      bom: opts.header,
      header: opts.header,
      columns: opts.columns.map((c) => c.header),
      // RFC 4180 line ends (what Excel writes); cells with a comma, quote or line break are quoted.
      record_delimiter: "windows",
      cast: { boolean: (b) => (b ? "true" : "false") },
    });
    const counted = new Transform({
      transform(chunk: Buffer, _enc, done) {
        opts.onBytes?.(chunk.length);
        done(null, chunk);
      },
    });
    await pipeline(cursor, toCells, csv, counted, opts.out, { end: false });
    await client.query("COMMIT");
    return rows;
  } catch (err) {
    broken = true;
    opts.out.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    // A connection left mid-cursor is dropped rather than returned to the pool.
    client.release(broken);
  }
}

/** The query of one export slice, as the edge sends it (service invocation, system caller edge). */
export const ExportSliceQuery = z.object({
  locationId: z.string(),
  from: z.string(),
  to: z.string(),
  header: z.enum(["true", "false"]).default("true"),
  /** The location's IANA time zone (local-time columns); UTC when absent. */
  timeZone: z.string().max(64).optional(),
  /** A whole-chain download: each row starts with location_id and this location_name. */
  locationName: z.string().max(200).optional(),
});

/** An IANA time zone name the runtime knows (PostgreSQL knows the same tz database names). */
function timeZoneArg(zone: string): string {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    throw new AppError("BAD_USER_INPUT", "timeZone is not an IANA time zone", { field: "timeZone" });
  }
}

/** Most business days one slice request may span (the edge asks for a week at a time). */
export const MAX_EXPORT_SLICE_DAYS = 31;

/** A slice query parsed: a UUID location and a from ≤ to range of at most MAX_EXPORT_SLICE_DAYS. */
export function parseExportSlice(query: unknown): {
  locationId: string;
  from: string;
  to: string;
  header: boolean;
  timeZone: string;
  locationName?: string;
} {
  const parsed = ExportSliceQuery.safeParse(query);
  if (!parsed.success) throw new AppError("BAD_USER_INPUT", "locationId, from and to are required");
  const locationId = uuidArg(parsed.data.locationId, "locationId");
  const from = businessDayArg(parsed.data.from, "from");
  const to = businessDayArg(parsed.data.to, "to");
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days < 1 || days > MAX_EXPORT_SLICE_DAYS)
    throw new AppError("BAD_USER_INPUT", `a slice is 1–${MAX_EXPORT_SLICE_DAYS} days, from ≤ to`);
  const timeZone = timeZoneArg(parsed.data.timeZone ?? "UTC");
  const { locationName } = parsed.data;
  return {
    locationId,
    from,
    to,
    header: parsed.data.header === "true",
    timeZone,
    ...(locationName === undefined ? {} : { locationName }),
  };
}

/** What one export kind streams for a slice: its query and its columns. */
export interface CsvExport<Row> {
  /** The download's file name stem (`orders` → orders_<location>_<from>_<to>.csv). */
  name: string;
  query: (slice: { locationId: string; from: string; to: string }) => { text: string; values: unknown[] };
  columns: readonly CsvColumn<Row>[];
}

/** A whole-chain slice's columns: the location's id and name first, then the kind's own. */
function withLocation(
  slice: { locationId: string; locationName?: string },
  columns: readonly CsvColumn<never>[],
): CsvColumn<never>[] {
  return [
    { header: "location_id", value: () => slice.locationId },
    { header: "location_name", value: () => slice.locationName ?? null },
    ...columns,
  ];
}

/**
 * Mounts `GET <prefix>/<kind>` for each export kind: called by the edge alone (Dapr service
 * invocation, system caller `edge` in the tenant it names; components/access.yaml lets the edge,
 * and nobody else, reach these paths), which checked the caller's scope and the signed download
 * link before asking. Each answer is one slice of the download, streamed (streamCsv).
 */
export function mountCsvExports(
  app: Express,
  opts: {
    prefix: string;
    pool: pg.Pool;
    callerOf: CallerOf;
    log: Logger;
    // Each kind has its own row type (a CsvExport<Row> is a CsvExport<never>): the route only
    // hands the rows of a kind's query to that kind's columns.
    exports: Record<string, CsvExport<never>>;
  },
): void {
  for (const [kind, spec] of Object.entries(opts.exports)) {
    app.get(`${opts.prefix}/${kind}`, async (req, res) => {
      const who = (await opts.callerOf(req.headers)).identity();
      if (who.role !== "system" || who.callerApp !== "edge")
        throw new AppError("FORBIDDEN", "exports are requested through the edge's signed links");
      const slice = parseExportSlice(req.query);
      const { text, values } = spec.query(slice);
      res.status(200);
      res.setHeader("content-type", "text/csv; charset=utf-8");
      res.setHeader(
        "content-disposition",
        `attachment; filename="${spec.name}_${slice.locationId}_${slice.from}_${slice.to}.csv"`,
      );
      const started = Date.now();
      try {
        const rows = await streamCsv({
          pool: opts.pool,
          tenantId: who.tenantId,
          text,
          values,
          columns: slice.locationName === undefined ? spec.columns : withLocation(slice, spec.columns),
          header: slice.header,
          out: res,
          timeZone: slice.timeZone,
          onBytes: (bytes) => exportBytes.inc({ kind }, bytes),
        });
        res.end();
        exportRows.inc({ kind }, rows);
        exportSliceSeconds.observe({ kind, outcome: "ok" }, (Date.now() - started) / 1000);
        opts.log.info(
          { kind, rows, ms: Date.now() - started, from: slice.from, to: slice.to },
          "export slice",
        );
      } catch (err) {
        // Headers (and maybe rows) are out: the transfer is cut (streamCsv destroyed it).
        exportSliceSeconds.observe({ kind, outcome: "failed" }, (Date.now() - started) / 1000);
        opts.log.error({ err, kind, from: slice.from, to: slice.to }, "export slice failed");
      }
    });
  }
}
