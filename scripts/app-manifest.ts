/**
 * apps.yaml — the one list of the apps and what each is (runtime, image, database, subschema,
 * replicas, port slot) — read and checked. The launcher (scripts/mesh/ports.ts), Tilt, the
 * Skaffold generator (scripts/generate-app-files.ts) and the consistency tests
 * (scripts/app-manifest.test.ts) all read it through here. Callers and topics are not in it:
 * components/access.yaml is their source.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, YAMLParseError } from "yaml";
import { z } from "zod";

export const REPO = path.resolve(import.meta.dirname, "..");
export const MANIFEST_PATH = path.join(REPO, "apps.yaml");

/** Lowercase letters only: LSP_REPLICAS (`edge=2`) and LSP_APPS parse names that way. */
const APP_NAME = /^[a-z]+$/;

const AppEntry = z.strictObject({
  /** Ports of the app's first replica start at base + 20 + 10·portSlot (scripts/mesh/ports.ts). */
  portSlot: z.number().int().min(0),
  runtime: z.enum(["node", "python"]),
  /** The image Tilt and Skaffold build for it (a Docker repository name, no tag). */
  image: z
    .string()
    .regex(/^[a-z0-9]+(?:[._/-][a-z0-9]+)*$/, "an image is a repository name such as lsp/sales (no tag)"),
  /** Owns a schema in the shared PostgreSQL database. */
  database: z.boolean(),
  /** Serves a GraphQL subschema the edge stitches. */
  subschema: z.boolean(),
  /** The chart's default number of replicas. */
  replicas: z.number().int().min(1),
});

const ManifestFile = z.strictObject({
  // Names are checked below: zod's message for a bad record key does not say what a key must be.
  apps: z.record(z.string(), AppEntry).refine((apps) => Object.keys(apps).length > 0, "no apps"),
});

export type AppSpec = z.infer<typeof AppEntry> & { name: string };

export interface AppManifest {
  /** Every app, in port-slot order. */
  apps: readonly AppSpec[];
}

/** apps.yaml is malformed or disagrees with itself; the message names the file and the field. */
export class AppManifestError extends Error {
  override name = "AppManifestError";
}

/** Parses the text of an apps.yaml; `source` names it in errors. */
export function parseAppManifest(text: string, source = "apps.yaml"): AppManifest {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new AppManifestError(`${source}: not YAML: ${err.message}`);
    throw err;
  }
  const parsed = ManifestFile.safeParse(raw);
  if (!parsed.success) throw new AppManifestError(`${source}:\n${z.prettifyError(parsed.error)}`);

  for (const name of Object.keys(parsed.data.apps))
    if (!APP_NAME.test(name))
      throw new AppManifestError(`${source}: the app name "${name}" is not lowercase letters (a-z) alone`);
  const apps = Object.entries(parsed.data.apps)
    .map(([name, entry]): AppSpec => ({ name, ...entry }))
    .sort((a, b) => a.portSlot - b.portSlot);
  // Slots are 0…n-1, each once: the launcher gives the i-th app (in this order) the i-th block of
  // ports, so a shared slot or a hole would silently move an app to other ports than it names.
  apps.forEach((app, i) => {
    if (app.portSlot !== i) {
      const clash = apps.find((other) => other !== app && other.portSlot === app.portSlot);
      throw new AppManifestError(
        clash
          ? `${source}: ${clash.name} and ${app.name} both have portSlot ${app.portSlot}`
          : `${source}: the port slots must be 0…${apps.length - 1}; ${app.name} has ${app.portSlot} and slot ${i} is free`,
      );
    }
  });
  const images = new Map<string, string>();
  for (const app of apps) {
    const other = images.get(app.image);
    if (other)
      throw new AppManifestError(`${source}: ${other} and ${app.name} both build the image ${app.image}`);
    images.set(app.image, app.name);
  }
  return { apps };
}

/** The TypeScript apps share one Dockerfile (`--build-arg APP=<name>`); an app of another runtime has its own. */
export const NODE_DOCKERFILE = "services/node.Dockerfile";
export const dockerfileOf = (app: Pick<AppSpec, "name" | "runtime">): string =>
  app.runtime === "node" ? NODE_DOCKERFILE : `services/${app.name}/Dockerfile`;

/** Reads the repository's apps.yaml (or `file`). */
export function loadAppManifest(file = MANIFEST_PATH): AppManifest {
  return parseAppManifest(readFileSync(file, "utf8"), path.relative(REPO, file) || file);
}

/**
 * The manifest's app names in slot order, typed as `T` (a literal union written in code so that a
 * misspelt app name fails to compile). Throws when the manifest and `known` name different apps.
 */
export function appNamesAs<T extends string>(
  manifest: AppManifest,
  known: readonly T[],
  knownWhere: string,
): T[] {
  const names = manifest.apps.map((a) => a.name);
  const unknown = names.filter((n) => !(known as readonly string[]).includes(n));
  const missing = known.filter((n) => !names.includes(n));
  if (unknown.length || missing.length)
    throw new AppManifestError(
      [
        unknown.length ? `apps.yaml names ${unknown.join(", ")}, which ${knownWhere} does not know` : "",
        missing.length ? `${knownWhere} names ${missing.join(", ")}, which apps.yaml does not` : "",
      ]
        .filter(Boolean)
        .join("; ") + ": keep the two lists the same",
    );
  return names as T[];
}
