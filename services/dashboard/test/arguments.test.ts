// Client mistakes in the dashboard's arguments are BAD_USER_INPUT before anything is read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { AppError } from "@lsp/runtime";
import { resolvers, type DashboardContext } from "../src/schema.js";

const who = { tenantId: randomUUID(), role: "owner" as const };
const ctx = { identity: () => who } as unknown as DashboardContext;

async function refused(run: () => unknown, field: string) {
  await assert.rejects(
    async () => run(),
    (e: unknown) =>
      e instanceof AppError && e.code === "BAD_USER_INPUT" && String(e.details?.field).startsWith(field),
  );
}

test("merge ids: at most 200, each a UUID", async () => {
  const ids = Array.from({ length: 200 }, () => randomUUID());
  assert.equal(resolvers.Query._dashboardLocations(null, { ids }, ctx).length, 200);
  await refused(() => resolvers.Query._dashboardLocations(null, { ids: [...ids, randomUUID()] }, ctx), "ids");
  await refused(() => resolvers.Query._dashboardLocations(null, { ids: [randomUUID(), "x"] }, ctx), "ids[1]");
  await refused(() => resolvers.Query.dashboardRebuild(null, { id: "x" }, ctx), "id");
});

test("business days outside 2000–2099, or not dates, are refused before any read", async () => {
  const loc = { id: randomUUID() };
  for (const businessDay of ["0001-01-01", "2100-01-01", "2026-02-30", "yesterday"])
    await refused(() => resolvers.Location.day(loc, { businessDay }, ctx), "businessDay");
  await refused(
    () => resolvers.Location.menuEngineering(loc, { from: "0001-01-01", to: "0001-02-01" }, ctx),
    "from",
  );
  await refused(
    () => resolvers.Location.menuEngineering(loc, { from: "2026-01-01", to: "2027-06-01" }, ctx),
    "to",
  );
});
