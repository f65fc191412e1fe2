import { startMesh, type Mesh, type MeshOptions } from "../../scripts/mesh/mesh.js";

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
