// A database outage is not the service's crash nor the client's fault: an idle connection that
// PostgreSQL drops is absorbed by the pool (no process exit), and a query failing because the
// database is down or restarting answers a typed UNAVAILABLE (503), which callers retry.
import { EventEmitter } from "node:events";
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, isDatabaseUnavailable, toAppError } from "@lsp/runtime";
import { createDatabase } from "./index.js";

test("an idle connection lost while the database restarts is logged, not thrown at the process", async () => {
  const { pool, db } = createDatabase(
    "postgres://nobody@127.0.0.1:1/none",
    "sales",
    1,
    createLogger("test", "silent"),
  );
  // pg emits this when the server ends an idle client; an EventEmitter with no listener throws.
  assert.doesNotThrow(() =>
    pool.emit("error", new Error("terminating connection due to administrator command")),
  );
  // A checked-out client (a transaction, a held advisory lock) emits the loss on itself.
  const client = new EventEmitter();
  pool.emit("connect", client);
  assert.doesNotThrow(() =>
    client.emit("error", new Error("terminating connection due to unexpected postmaster exit")),
  );
  await db.destroy();
});

test("a query against a database that is down answers UNAVAILABLE (503), never INTERNAL", async () => {
  // Port 1 refuses at once: the same error a pool meets while PostgreSQL is down.
  const { db, pool } = createDatabase("postgres://nobody@127.0.0.1:1/none", "sales", 1);
  const err = await pool.query("SELECT 1").then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error, "the query failed");
  assert.equal(toAppError(err).code, "UNAVAILABLE");
  assert.equal(toAppError(err).status, 503);
  await db.destroy();
});

test("PostgreSQL's shutdown and connection codes are UNAVAILABLE; its other errors stay INTERNAL", () => {
  const pgError = (code: string) => Object.assign(new Error("x"), { code });
  for (const code of ["57P01", "57P02", "57P03", "08006", "08001", "ECONNRESET"])
    assert.ok(isDatabaseUnavailable(pgError(code)), code);
  assert.ok(isDatabaseUnavailable(new Error("Connection terminated unexpectedly")));
  // A constraint violation or a syntax error is a bug or a conflict, not an outage.
  for (const code of ["23505", "42601", "40001"]) {
    assert.equal(isDatabaseUnavailable(pgError(code)), false, code);
    assert.equal(toAppError(pgError(code)).code, "INTERNAL");
  }
  assert.equal(isDatabaseUnavailable("ECONNREFUSED"), false, "only errors count");
});
