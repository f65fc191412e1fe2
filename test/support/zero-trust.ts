// The zero-trust suite's mesh and helpers (test/e2e/zero-trust.test.ts runs its scenario files in
// test/e2e/zero-trust/ against one mesh, in order).
import { after, before } from "node:test";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import type { AppName } from "../../scripts/mesh/ports.js";
import { DEMO, edgeClient } from "./graphql-client.js";
import { asApp, startTestMesh } from "./mesh.js";

/** Phở Bò's tenant id (the demo seed's). */
export const PHO_BO_TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01";

/** What every zero-trust scenario uses; the fields are set by the suite's `before`. */
export interface ZeroTrustMesh {
  mesh: Mesh;
  /** The edge as Phở Bò's demo owner. */
  gql: ReturnType<typeof edgeClient>;
  /** The edge's public origin (scheme, host and port). */
  edge: string;
  /** Dapr's HTTP API of `app`'s sidecar, called as `app` would call it (its own token). */
  sidecar: (app: AppName, api: string, init?: RequestInit) => Promise<Response>;
}

/** Starts the suite's mesh in a `before` of the calling describe, and stops it after. */
export function useZeroTrustMesh(): ZeroTrustMesh {
  const h = {} as ZeroTrustMesh;
  h.sidecar = (app, api, init = {}) =>
    fetch(`http://127.0.0.1:${h.mesh.plan.apps[app].daprHttp}/v1.0/${api}`, {
      ...init,
      headers: { "content-type": "application/json", ...asApp(h.mesh, app), ...(init.headers as object) },
      signal: AbortSignal.timeout(10_000),
    });
  before(async () => {
    h.mesh = await startTestMesh();
    h.gql = edgeClient(h.mesh.edgeUrl, DEMO.phoBo.slug);
    h.edge = new URL(h.mesh.edgeUrl).origin;
  });
  after(async () => {
    await h.mesh?.stop();
  });
  return h;
}
