import { Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify";
import type pg from "pg";
import QueryStream from "pg-query-stream";
import type { Express } from "express";
import { z } from "zod";
import { AppError, businessDayArg, uuidArg, type Logger } from "@lsp/runtime";
import type { CallerOf } from "@lsp/identity";

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
}): Promise<number> {
  const client = await opts.pool.connect();
  let rows = 0;
  let broken = false;
  try {
    await client.query("BEGIN READ ONLY");
    await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [opts.tenantId]);
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
    await pipeline(cursor, toCells, csv, opts.out, { end: false });
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
});

/** Most business days one slice request may span (the edge asks for a week at a time). */
export const MAX_EXPORT_SLICE_DAYS = 31;

/** A slice query parsed: a UUID location and a from ≤ to range of at most MAX_EXPORT_SLICE_DAYS. */
export function parseExportSlice(query: unknown): {
  locationId: string;
  from: string;
  to: string;
  header: boolean;
} {
  const parsed = ExportSliceQuery.safeParse(query);
  if (!parsed.success) throw new AppError("BAD_USER_INPUT", "locationId, from and to are required");
  const locationId = uuidArg(parsed.data.locationId, "locationId");
  const from = businessDayArg(parsed.data.from, "from");
  const to = businessDayArg(parsed.data.to, "to");
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
  if (days < 1 || days > MAX_EXPORT_SLICE_DAYS)
    throw new AppError("BAD_USER_INPUT", `a slice is 1–${MAX_EXPORT_SLICE_DAYS} days, from ≤ to`);
  return { locationId, from, to, header: parsed.data.header === "true" };
}

/** What one export kind streams for a slice: its query and its columns. */
export interface CsvExport<Row> {
  /** The download's file name stem (`orders` → orders_<location>_<from>_<to>.csv). */
  name: string;
  query: (slice: { locationId: string; from: string; to: string }) => { text: string; values: unknown[] };
  columns: readonly CsvColumn<Row>[];
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
          columns: spec.columns,
          header: slice.header,
          out: res,
        });
        res.end();
        opts.log.info(
          { kind, rows, ms: Date.now() - started, from: slice.from, to: slice.to },
          "export slice",
        );
      } catch (err) {
        // Headers (and maybe rows) are out: the transfer is cut (streamCsv destroyed it).
        opts.log.error({ err, kind, from: slice.from, to: slice.to }, "export slice failed");
      }
    });
  }
}
