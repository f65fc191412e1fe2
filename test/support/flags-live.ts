// The flags-live suite's mesh and helpers (test/e2e/flags-live.test.ts runs its scenario files in
// test/e2e/flags-live/ against one mesh, in order: later scenarios start from the flag rules the
// earlier ones left).
import { after, before } from "node:test";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { REPO, type Mesh } from "../../scripts/mesh/mesh.js";
import { DATABASE } from "../../scripts/mesh/infra.js";
import { startTestMesh } from "./mesh.js";
import { edgeAuthHeaders, eventually } from "./graphql-client.js";

/** The demo seed's tenant ids. */
export const TENANT = {
  phoBo: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01",
  caPhe: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02",
} as const;

export interface Flag {
  key: string;
  enabled: boolean;
  canChange: boolean;
}
export const FLAGS_FIELDS = "key enabled canChange";
export const enabled = (set: Flag[] | undefined, key: string) => set?.find((f) => f.key === key)?.enabled;

/** A graphql-ws subscription to featureFlagsChanged, collecting every set it pushes. */
export async function flagStream(mesh: Mesh, tenant: string) {
  const headers = await edgeAuthHeaders(mesh.edgeUrl, tenant);
  const client: Client = createClient({
    url: mesh.edgeUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: headers,
    retryAttempts: 0,
  });
  const sets: Flag[][] = [];
  const state: { error?: unknown } = {};
  client.subscribe<{ featureFlagsChanged: Flag[] }>(
    { query: `subscription { featureFlagsChanged { ${FLAGS_FIELDS} } }` },
    {
      next: (v) => void (v.data ? sets.push(v.data.featureFlagsChanged) : (state.error = v.errors)),
      error: (e) => void (state.error = e),
      complete: () => undefined,
    },
  );
  const until = (what: string, test: (latest: Flag[]) => boolean) =>
    eventually(what, async () => {
      if (state.error) throw new Error(JSON.stringify(state.error));
      const latest = sets[sets.length - 1];
      return latest && test(latest) ? latest : undefined;
    });
  return { sets, until, dispose: () => client.dispose() };
}

/** What every flags-live scenario uses; the fields are set by the suite's `before`. */
export interface FlagsLiveMesh {
  mesh: Mesh;
  /** The mesh's PostgreSQL as its superuser (to read the stored flags, their audit and payments). */
  admin: pg.Client;
  /** The platform's flags CLI (scripts/flags.ts) against this mesh, as actor "e2e". */
  flags: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;
}

/** Starts the suite's mesh and its database client in a `before` of the calling describe. */
export function useFlagsLiveMesh(): FlagsLiveMesh {
  const h = {} as FlagsLiveMesh;
  h.flags = (...args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/flags.ts", ...args, "--as", "e2e"], {
      cwd: REPO,
      env: { ...process.env, LSP_PORT_BASE: String(h.mesh.plan.base) },
    });
  before(async () => {
    h.mesh = await startTestMesh();
    h.admin = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${h.mesh.plan.postgres}/${DATABASE}`,
    });
    await h.admin.connect();
  });
  after(async () => {
    await h.admin?.end();
    await h.mesh?.stop();
  });
  return h;
}
