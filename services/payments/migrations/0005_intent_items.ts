import { sql, type Kysely } from "kysely";

/**
 * Issue 13: a webhook is answered as soon as the payment is recorded, without asking sales about
 * the order. What the webhook needs of the order is taken when the payment starts (an order's
 * lines and total never change once it is created; sales checks the amount again when it applies
 * payment.succeeded): the amount and location were already on the intent; the items, which
 * payment.succeeded carries for the owner's notification, are kept here. NULL for intents
 * started before: their event goes without items, and notifications asks sales for them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE payment_intents ADD COLUMN items jsonb`.execute(db);
}
