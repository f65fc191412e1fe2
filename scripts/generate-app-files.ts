/**
 * Writes the files that list every app from apps.yaml: skaffold.yaml (one artifact per app, one
 * image value per app). They are committed, so `skaffold dev` needs no step first;
 * scripts/app-files.test.ts fails when a committed file differs from what this writes.
 *   npx tsx scripts/generate-app-files.ts
 * (The Tiltfile reads apps.yaml itself; the launcher reads it through scripts/app-manifest.ts.)
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { format, resolveConfig } from "prettier";
import {
  dockerfileOf,
  loadAppManifest,
  NODE_DOCKERFILE,
  REPO,
  type AppManifest,
  type AppSpec,
} from "./app-manifest.js";

export const SKAFFOLD_PATH = path.join(REPO, "skaffold.yaml");

/** Skaffold's template variable of an artifact's built image: its name with / - . as _. */
export const skaffoldImageVariable = (image: string) =>
  `IMAGE_FULLY_QUALIFIED_${image.replace(/[/.-]/g, "_")}`;

function artifact(app: AppSpec): string {
  if (app.runtime === "python")
    return `
    - image: ${app.image}
      context: .
      docker: { dockerfile: ${dockerfileOf(app)} }`;
  // The dev target runs the sources under `tsx watch` (the chart's devLoop): a synced .ts file
  // restarts the app without a rebuild.
  return `
    - image: ${app.image}
      context: .
      docker: { dockerfile: ${NODE_DOCKERFILE}, buildArgs: { APP: ${app.name} }, target: dev }
      sync:
        manual:
          - { src: "services/${app.name}/src/**/*.ts", dest: /app }
          - { src: "packages/*/src/**/*.ts", dest: /app }`;
}

/** skaffold.yaml's text for `manifest`, formatted as prettier leaves it. */
export async function renderSkaffold(manifest: AppManifest): Promise<string> {
  const text = `# GENERATED from apps.yaml by scripts/generate-app-files.ts: edit either, then run
# \`npx tsx scripts/generate-app-files.ts\` (scripts/app-files.test.ts fails when this is stale).
# Skaffold: \`skaffold dev\` builds every app's image (repository root as context, npm workspaces),
# installs charts/lsp with the dev profile and redeploys on change; TypeScript sources are synced
# into the running containers (the dev profile runs them with \`tsx watch\`, so no rebuild for a
# source edit); the images built here are the \`dev\` target of ${NODE_DOCKERFILE}; the shipped
# images (its final stage) run the compiled apps.
# Profiles: dev (the default: Linkerd-injected), no-mesh (clusters without Linkerd or Istio).
# Needs: a local cluster (kind, k3d, minikube) with Dapr installed (docs/kubernetes.md).
apiVersion: skaffold/v4beta11
kind: Config
metadata:
  name: lsp
build:
  local:
    push: false
    useBuildkit: true
  tagPolicy:
    gitCommit: {}
  artifacts:${manifest.apps.map(artifact).join("")}
manifests:
  helm:
    releases:
      - name: lsp
        chartPath: charts/lsp
        namespace: lsp
        createNamespace: true
        valuesFiles: [charts/lsp/values-dev.yaml]
        # Each app runs the image Skaffold just built for it.
        setValueTemplates:
${manifest.apps.map((app) => `          apps.${app.name}.image: "{{.${skaffoldImageVariable(app.image)}}}"`).join("\n")}
deploy:
  helm: {}
  statusCheckDeadlineSeconds: 300
portForward:
  - { resourceType: service, resourceName: lsp-edge, namespace: lsp, port: 80, localPort: 8080 }
  - { resourceType: service, resourceName: lsp-jaeger, namespace: lsp, port: 16686, localPort: 16686 }
profiles:
  - name: dev
    activation:
      - command: dev
  - name: no-mesh
    patches:
      - op: add
        path: /manifests/helm/releases/0/valuesFiles/-
        value: charts/lsp/values-no-mesh.yaml
`;
  const options = await resolveConfig(SKAFFOLD_PATH);
  return format(text, { ...options, filepath: SKAFFOLD_PATH });
}

/** Every generated file: its path and the text it should have. */
export async function appFiles(manifest = loadAppManifest()): Promise<{ file: string; text: string }[]> {
  return [{ file: SKAFFOLD_PATH, text: await renderSkaffold(manifest) }];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const { file, text } of await appFiles()) {
    writeFileSync(file, text);
    console.log(`wrote ${path.relative(REPO, file)}`);
  }
}
