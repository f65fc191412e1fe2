import path from "node:path";
import { z } from "zod";
import {
  bootDatabaseService,
  identityFromHeaders,
  mountSubschema,
  pingDatabase,
  startService,
} from "@lsp/service-kit";
import type { AuthDB } from "./db.js";
import { requireLocation, tenantBySlug } from "./locations.js";
import { resolvers, typeDefs, type AuthContext } from "./schema.js";

const { config, log, database } = await bootDatabaseService<AuthDB>({
  schema: "auth",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
});
const { db } = database;
const slug = z.string().regex(/^[a-z0-9-]{1,63}$/);

await startService({
  config,
  log,
  readiness: { database: () => pingDatabase(database.pool) },
  routes(app) {
    // Internal API, reached only through Dapr service invocation.
    app.get("/v1/tenants/by-slug/:slug", async (req, res) => {
      res.json(await tenantBySlug(db, slug.parse(req.params.slug)));
    });
    app.get("/v1/locations/:id", async (req, res) => {
      res.json(await requireLocation(db, identityFromHeaders(req.headers), z.uuid().parse(req.params.id)));
    });
    mountSubschema<AuthContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: ({ request }) => ({ db, identity: () => identityFromHeaders(request.headers) }),
    });
  },
  onShutdown: () => db.destroy(),
});
