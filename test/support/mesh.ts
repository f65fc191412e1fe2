import { startMesh, type Mesh, type MeshOptions } from "../../scripts/mesh/mesh.js";
import type { AppName } from "../../scripts/mesh/ports.js";

/** The same launcher as `npm start`, on its own ports and a fresh state directory. */
export async function startTestMesh(extra: Partial<MeshOptions> = {}): Promise<Mesh> {
  const base = Number(process.env.LSP_TEST_PORT_BASE ?? 4600);
  return startMesh({
    portBase: base,
    name: `test-${base}`,
    fresh: true,
    demoData: true,
    logLevel: "warn",
    onProgress: (m) => process.stderr.write(`[mesh] ${m}\n`),
    ...extra,
  });
}

/** Headers to use `app`'s sidecar as `app` would (its Dapr API token): the harness injects events. */
export function asApp(mesh: Mesh, app: AppName): Record<string, string> {
  return { "dapr-api-token": mesh.tokens[app].daprApiToken };
}

/** Headers to call `app` directly as its own sidecar would (its app token). */
export function asSidecarOf(mesh: Mesh, app: AppName): Record<string, string> {
  return { "dapr-api-token": mesh.tokens[app].appApiToken };
}
