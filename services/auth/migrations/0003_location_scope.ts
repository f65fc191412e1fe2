import type { Kysely } from "kysely";
import { enableLocationIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  // Staff limited to some locations see only those, even through a query that forgets to filter.
  await enableLocationIsolation(db, "locations", "id");
}
