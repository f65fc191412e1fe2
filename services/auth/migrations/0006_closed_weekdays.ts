import { sql, type Kysely } from "kysely";
import { WEEKDAYS } from "@lsp/contracts";

/**
 * The weekdays a location is closed every week (issue 18: the owner says "closed on Mondays", so a
 * new location's forecast does not expect demand then). Names of @lsp/contracts' WEEKDAYS, kept in
 * their order (Monday first) by auth's code; none closed by default, never all seven.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const names = sql.join(WEEKDAYS.map((d) => sql.lit(d)));
  await db.schema
    .alterTable("locations")
    .addColumn("closed_weekdays", sql`text[]`, (c) =>
      c
        .notNull()
        .defaultTo(sql`'{}'::text[]`)
        .check(sql`closed_weekdays <@ ARRAY[${names}]::text[] AND cardinality(closed_weekdays) < 7`),
    )
    .execute();
}
