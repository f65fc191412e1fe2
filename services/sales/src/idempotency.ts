import type { Transaction } from "kysely";
import { AppError } from "@lsp/runtime";
import type { SalesDB } from "./db.js";

/**
 * Runs a mutation once per (tenant, idempotency key) inside the caller's transaction. The key is
 * claimed first, so a concurrent replay waits for the first to commit and then gets its stored
 * result; if the mutation fails, the claim rolls back with it and a retry runs it again.
 * `operation` names the mutation and its target: a key reused for something else is a CONFLICT.
 */
export async function runOnce<T>(
  trx: Transaction<SalesDB>,
  tenantId: string,
  key: string,
  operation: string,
  run: () => Promise<T>,
): Promise<T> {
  const claimed = await trx
    .insertInto("idempotency_keys")
    .values({ tenant_id: tenantId, key, operation, result: null })
    .onConflict((c) => c.columns(["tenant_id", "key"]).doNothing())
    .returning("key")
    .executeTakeFirst();
  if (!claimed) {
    const prior = await trx
      .selectFrom("idempotency_keys")
      .select(["operation", "result"])
      .where("key", "=", key)
      .executeTakeFirstOrThrow();
    if (prior.operation !== operation)
      throw new AppError("CONFLICT", "this idempotency key was already used for another change", {
        field: "idempotencyKey",
      });
    return prior.result as T;
  }
  const result = await run();
  await trx
    .updateTable("idempotency_keys")
    .set({ result: JSON.stringify(result) })
    .where("key", "=", key)
    .execute();
  return result;
}
