// What `npm run dev -- <app>` checks before it joins a running mesh (pure, unit-tested).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { MeshFile } from "./mesh.js";
import { APPS, type AppName } from "./ports.js";
import { MeshError } from "./processes.js";
import { REPO } from "./repo.js";

/** Reads a running mesh's mesh.json; a clear error when there is none or its launcher is gone. */
export function readRunningMesh(runDir: string): MeshFile {
  const file = path.join(runDir, "mesh.json");
  if (!existsSync(file))
    throw new MeshError(
      `no running mesh in ${path.relative(REPO, runDir)}/ (no mesh.json): start one first, without the app, e.g. LSP_APPS=edge,auth,dashboard npm start`,
    );
  const mesh = JSON.parse(readFileSync(file, "utf8")) as Partial<MeshFile>;
  if (!mesh.join || mesh.launcherPid === undefined || mesh.portBase === undefined || !mesh.replicas)
    throw new MeshError(`${path.relative(REPO, file)} was written by an older launcher: restart the mesh`);
  try {
    process.kill(mesh.launcherPid, 0);
  } catch {
    throw new MeshError(
      `the mesh of ${path.relative(REPO, file)} is gone (launcher ${mesh.launcherPid} not running)`,
    );
  }
  return mesh as MeshFile;
}

/** Why `app` cannot join `mesh` (undefined: it can). */
export function joinRefusal(mesh: MeshFile, app: string): string | undefined {
  if (!(APPS as readonly string[]).includes(app)) return `unknown app "${app}"; one of ${APPS.join(", ")}`;
  if (mesh.join.apps.includes(app as AppName))
    return `${app} already runs in this mesh; start the mesh without it (LSP_APPS=${mesh.join.apps.filter((a) => a !== app).join(",")} npm start)`;
  return undefined;
}
