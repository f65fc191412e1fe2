import { startMesh, type AppInstance, type Mesh, type MeshOptions } from "../../scripts/mesh/mesh.js";
import { replicaPorts, type AppName, type AppPorts } from "../../scripts/mesh/ports.js";

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
    onRestart: (e) => process.stderr.write(`[mesh] ${JSON.stringify(e)}\n`),
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

/** The ports of one replica (1-based) of `app`: a test that targets one replica. */
export function portsOf(mesh: Mesh, app: AppName, replica = 1): AppPorts {
  return replicaPorts(mesh.plan, app, replica);
}

/** Every replica of `app`, in order. */
export function replicasOf(mesh: Mesh, app: AppName): readonly AppInstance[] {
  return mesh.instances().filter((i) => i.app === app);
}

/** The GraphQL URL of one edge replica (the first is `mesh.edgeUrl`). */
export function edgeUrlOf(mesh: Mesh, replica: number): string {
  return `http://localhost:${portsOf(mesh, "edge", replica).app}/graphql`;
}
