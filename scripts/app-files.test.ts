// The build files that list every app follow apps.yaml: skaffold.yaml is generated (and this fails
// when the committed one is stale: run `npx tsx scripts/generate-app-files.ts`), and the Tiltfile,
// run under stand-ins for Tilt's functions, builds and deploys exactly the manifest's apps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { loadAppManifest, NODE_DOCKERFILE, parseAppManifest, REPO } from "./app-manifest.js";
import { appFiles, renderSkaffold, skaffoldImageVariable } from "./generate-app-files.js";

const manifest = loadAppManifest();

test("the committed generated files are what scripts/generate-app-files.ts writes", async () => {
  for (const { file, text } of await appFiles(manifest))
    assert.equal(
      readFileSync(file, "utf8"),
      text,
      `${path.relative(REPO, file)} is stale: run \`npx tsx scripts/generate-app-files.ts\` and commit it`,
    );
});

interface SkaffoldConfig {
  build: {
    artifacts: {
      image: string;
      docker: { dockerfile: string; buildArgs?: { APP: string }; target?: string };
      sync?: { manual: { src: string; dest: string }[] };
    }[];
  };
  manifests: { helm: { releases: { setValueTemplates: Record<string, string> }[] } };
}

/** A manifest unlike the repository's: other names, images, runtimes and count. */
const OTHER_TEXT = `apps:
  edge: { portSlot: 0, runtime: node, image: lsp/edge, database: false, subschema: false, replicas: 2 }
  menu: { portSlot: 1, runtime: node, image: shop/menu, database: true, subschema: true, replicas: 3 }
  forecast: { portSlot: 2, runtime: python, image: shop/forecast, database: true, subschema: false, replicas: 1 }
`;
const MANIFESTS = [
  ["the repository's manifest", readFileSync(path.join(REPO, "apps.yaml"), "utf8")],
  ["another manifest", OTHER_TEXT],
] as const;

for (const [label, text] of MANIFESTS)
  test(`skaffold.yaml from ${label}: one artifact per app of its runtime, one image value per app`, async () => {
    const m = parseAppManifest(text);
    const config = parse(await renderSkaffold(m)) as SkaffoldConfig;
    const artifacts = config.build.artifacts;
    assert.deepEqual(
      artifacts.map((a) => a.image),
      m.apps.map((a) => a.image),
    );
    for (const app of m.apps) {
      const artifact = artifacts.find((a) => a.image === app.image)!;
      if (app.runtime === "node") {
        assert.deepEqual(artifact.docker, {
          dockerfile: NODE_DOCKERFILE,
          buildArgs: { APP: app.name },
          target: "dev",
        });
        assert.ok(artifact.sync?.manual.some((s) => s.src === `services/${app.name}/src/**/*.ts`));
      } else {
        assert.deepEqual(artifact.docker, { dockerfile: `services/${app.name}/Dockerfile` });
        assert.equal(artifact.sync, undefined, "a Python image has no TypeScript to sync");
      }
    }
    assert.deepEqual(
      config.manifests.helm.releases[0]!.setValueTemplates,
      Object.fromEntries(
        m.apps.map((a) => [`apps.${a.name}.image`, `{{.${skaffoldImageVariable(a.image)}}}`]),
      ),
    );
  });

test("Skaffold's variable of an image is its name with / - . as _", () => {
  assert.equal(skaffoldImageVariable("lsp/sales"), "IMAGE_FULLY_QUALIFIED_lsp_sales");
  assert.equal(skaffoldImageVariable("ghcr.io/lsp/my-app"), "IMAGE_FULLY_QUALIFIED_ghcr_io_lsp_my_app");
});

// ---- the Tiltfile ---------------------------------------------------------------------------------

/**
 * Runs the Tiltfile (Starlark, here Python-compatible) with stand-ins for the Tilt functions it
 * calls; read_yaml("apps.yaml") answers `appsYaml`. Returns the calls it made.
 */
function runTiltfile(
  appsYaml: unknown,
  args: Record<string, unknown> = {},
): { fn: string; args: unknown[] }[] {
  const harness = `
import json, sys
calls = []
apps_yaml, cfg_args = json.loads(sys.argv[2]), json.loads(sys.argv[3])
def record(fn):
    def f(*args, **kwargs):
        calls.append({"fn": fn, "args": list(args), "kwargs": kwargs})
        return {"fn": fn}
    return f
class Config:
    def define_bool(self, name): pass
    def define_string(self, name): pass
    def parse(self): return cfg_args
def read_yaml(p, default=None):
    if p != "apps.yaml": raise Exception("read_yaml " + p)
    return apps_yaml
names = ["local_resource", "probe", "http_get_action", "link", "docker_build", "fall_back_on", "sync",
         "namespace_create", "k8s_yaml", "helm", "k8s_resource"]
env = {n: record(n) for n in names}
env.update(config=Config(), read_yaml=read_yaml)
exec(compile(open(sys.argv[1]).read(), "Tiltfile", "exec"), env)
print(json.dumps([{"fn": c["fn"], "args": c["args"] + [c["kwargs"]]} for c in calls]))
`;
  const res = spawnSync(
    "python3",
    ["-c", harness, path.join(REPO, "Tiltfile"), JSON.stringify(appsYaml), JSON.stringify(args)],
    {
      encoding: "utf8",
    },
  );
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as { fn: string; args: unknown[] }[];
}

/** The chart's own workloads, not apps. */
const INFRASTRUCTURE = new Set(["lsp-postgresql", "lsp-redis", "lsp-otel-collector", "lsp-jaeger"]);

for (const [label, text] of MANIFESTS)
  test(`the Tiltfile builds and deploys each app of ${label}, and no other`, () => {
    const m = parseAppManifest(text);
    const calls = runTiltfile(parse(text));
    const builds = calls.filter((c) => c.fn === "docker_build");
    assert.deepEqual(sorted(builds.map((b) => b.args[0] as string)), sorted(m.apps.map((a) => a.image)));
    for (const app of m.apps) {
      const options = builds.find((b) => b.args[0] === app.image)!.args.at(-1) as {
        dockerfile: string;
        build_args?: { APP: string };
      };
      assert.equal(
        options.dockerfile,
        app.runtime === "node" ? NODE_DOCKERFILE : `services/${app.name}/Dockerfile`,
      );
      if (app.runtime === "node") assert.deepEqual(options.build_args, { APP: app.name });
    }
    const deployed = calls
      .filter((c) => c.fn === "k8s_resource")
      .map((c) => c.args[0] as string)
      .filter((r) => !INFRASTRUCTURE.has(r));
    assert.deepEqual(sorted(deployed), sorted(m.apps.map((a) => `lsp-${a.name}`)));
  });

test("the Tiltfile's no-cluster mode reads the same file and runs the launcher", () => {
  const calls = runTiltfile(parse(MANIFESTS[0][1]), { "no-cluster": true });
  assert.ok(calls.some((c) => c.fn === "local_resource" && c.args[0] === "mesh"));
  assert.ok(!calls.some((c) => c.fn === "docker_build"));
});

function sorted(xs: string[]): string[] {
  return [...xs].sort();
}
