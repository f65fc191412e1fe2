// apps.yaml is the one list of the apps: the loader refuses a bad file with a message naming the
// field, and every other place that names the apps (the launcher, the chart's values and schema,
// access.yaml, the components' scopes, services/, the edge's subschemas, the database schemas, the
// build files) names exactly the manifest's apps, with the manifest's facts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import {
  appNamesAs,
  AppManifestError,
  dockerfileOf,
  loadAppManifest,
  NODE_DOCKERFILE,
  parseAppManifest,
  REPO,
} from "./app-manifest.js";
import { APPS } from "./mesh/ports.js";
import { allowedInvocations, graphqlCallees, loadAccess } from "./mesh/access.js";
import { DB_SERVICES } from "./mesh/infra.js";
import { subschemaApps } from "../services/edge/src/schema-registry.js";

const manifest = loadAppManifest();
const names = manifest.apps.map((a) => a.name);
const sorted = (xs: Iterable<string>) => [...xs].sort();
const readYaml = (file: string): unknown => parse(readFileSync(path.join(REPO, file), "utf8"));

// ---- the loader ----------------------------------------------------------------------------------

const GOOD = `apps:
  edge: { portSlot: 0, runtime: node, image: lsp/edge, database: false, subschema: false, replicas: 2 }
  ai: { portSlot: 1, runtime: python, image: lsp/ai, database: true, subschema: false, replicas: 1 }
`;

test("a well-formed manifest parses, its apps in port-slot order", () => {
  const swapped = GOOD.replace("portSlot: 0", "portSlot: X").replace("portSlot: 1", "portSlot: 0");
  const m = parseAppManifest(swapped.replace("portSlot: X", "portSlot: 1"));
  assert.deepEqual(
    m.apps.map((a) => [a.name, a.portSlot]),
    [
      ["ai", 0],
      ["edge", 1],
    ],
  );
  assert.deepEqual(parseAppManifest(GOOD).apps[1], {
    name: "ai",
    portSlot: 1,
    runtime: "python",
    image: "lsp/ai",
    database: true,
    subschema: false,
    replicas: 1,
  });
});

const BAD: [string, string, RegExp][] = [
  ["not YAML", "apps: [", /test\.yaml: not YAML/],
  ["no apps", "apps: {}", /no apps/],
  ["a field missing", GOOD.replace(", replicas: 2", ""), /apps\.edge\.replicas/],
  ["an unknown field", GOOD.replace("replicas: 2", "replicas: 2, port: 80"), /port/],
  ["an unknown runtime", GOOD.replace("runtime: python", "runtime: ruby"), /apps\.ai\.runtime/],
  [
    "a name that LSP_REPLICAS cannot parse",
    GOOD.replace("  ai:", "  ai-2:"),
    /the app name "ai-2" is not lowercase letters/,
  ],
  ["zero replicas", GOOD.replace("replicas: 1", "replicas: 0"), /apps\.ai\.replicas/],
  ["an image with a tag", GOOD.replace("lsp/ai", "lsp/ai:dev"), /apps\.ai\.image/],
  [
    "two apps on one port slot",
    GOOD.replace("portSlot: 1", "portSlot: 0"),
    /edge and ai both have portSlot 0/,
  ],
  [
    "a hole in the port slots",
    GOOD.replace("portSlot: 1", "portSlot: 2"),
    /0…1; ai has 2 and slot 1 is free/,
  ],
  [
    "two apps building one image",
    GOOD.replace("lsp/ai", "lsp/edge"),
    /edge and ai both build the image lsp\/edge/,
  ],
];
for (const [what, text, message] of BAD)
  test(`a manifest with ${what} is refused, naming the problem`, () => {
    assert.throws(
      () => parseAppManifest(text, "test.yaml"),
      (err: unknown) =>
        err instanceof AppManifestError && message.test(err.message) && err.message.startsWith("test.yaml"),
    );
  });

test("the names typed in code and the manifest's must be the same set", () => {
  const m = parseAppManifest(GOOD);
  assert.deepEqual(appNamesAs(m, ["ai", "edge"] as const, "code"), ["edge", "ai"]);
  assert.throws(
    () => appNamesAs(m, ["edge", "sales"] as const, "code"),
    /apps\.yaml names ai, which code does not know; code names sales, which apps\.yaml does not/,
  );
});

// ---- the repository agrees with apps.yaml ------------------------------------------------------

test("the launcher runs the manifest's apps, in port-slot order", () => {
  assert.deepEqual(APPS, names);
});

test("services/ holds one folder per app, of the app's runtime, and nothing else", () => {
  const dirs = readdirSync(path.join(REPO, "services"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  assert.deepEqual(sorted(dirs), sorted(names));
  for (const app of manifest.apps) {
    const projectFile = app.runtime === "node" ? "package.json" : "pyproject.toml";
    assert.ok(
      existsSync(path.join(REPO, "services", app.name, projectFile)),
      `${app.name}: no ${projectFile}`,
    );
    assert.ok(existsSync(path.join(REPO, dockerfileOf(app))), `${app.name}: no ${dockerfileOf(app)}`);
  }
});

interface ChartApp {
  runtime?: string;
  database?: boolean;
  replicas?: number;
}
interface ChartValues {
  image?: { registry?: string };
  apps?: Record<string, ChartApp>;
}

test("the chart's values.yaml has the manifest's apps, with its runtime, database and replicas", () => {
  const apps = (readYaml("charts/lsp/values.yaml") as ChartValues).apps ?? {};
  assert.deepEqual(sorted(Object.keys(apps)), sorted(names));
  for (const app of manifest.apps) {
    const chart = apps[app.name]!;
    assert.equal(chart.runtime ?? "node", app.runtime, `${app.name}: runtime`);
    assert.equal(chart.database ?? false, app.database, `${app.name}: database`);
    assert.equal(chart.replicas, app.replicas, `${app.name}: replicas`);
  }
});

for (const profile of ["values-dev.yaml", "values-prod.yaml", "values-istio.yaml", "values-no-mesh.yaml"])
  test(`charts/lsp/${profile} names only the manifest's apps and leaves their facts to values.yaml`, () => {
    const apps = (readYaml(`charts/lsp/${profile}`) as ChartValues | null)?.apps ?? {};
    for (const [name, chart] of Object.entries(apps)) {
      assert.ok(names.includes(name), `${profile} names ${name}, which apps.yaml does not`);
      assert.equal(chart.runtime, undefined, `${profile}: ${name}'s runtime is apps.yaml's`);
      assert.equal(chart.database, undefined, `${profile}: ${name}'s database is apps.yaml's`);
    }
  });

test("the dev profile renders each app's image as the image Tilt and Skaffold build", () => {
  const registry = (readYaml("charts/lsp/values-dev.yaml") as ChartValues).image?.registry;
  for (const app of manifest.apps) assert.equal(`${registry}/${app.name}`, app.image);
});

test("values.schema.json describes exactly the manifest's apps and requires each", () => {
  const schema = readYaml("charts/lsp/values.schema.json") as {
    properties: { apps: { properties: Record<string, unknown>; required?: string[] } };
  };
  assert.deepEqual(sorted(Object.keys(schema.properties.apps.properties)), sorted(names));
  assert.deepEqual(sorted(schema.properties.apps.required ?? []), sorted(names));
});

const access = loadAccess(REPO);

test("components/access.yaml says who calls and publishes for exactly the manifest's apps", () => {
  assert.deepEqual(sorted(Object.keys(access.apps)), sorted(names));
});

test("every component's and subscription's scopes name only manifest apps", () => {
  const files = [
    ...readdirSync(path.join(REPO, "components", "local")).map((f) => `components/local/${f}`),
    ...readdirSync(path.join(REPO, "charts", "lsp", "files", "dapr")).map(
      (f) => `charts/lsp/files/dapr/${f}`,
    ),
  ].filter((f) => f.endsWith(".yaml") && !f.endsWith("/access.yaml"));
  let scoped = 0;
  for (const file of files)
    for (const doc of parseAllDocuments(readFileSync(path.join(REPO, file), "utf8"))) {
      const resource = doc.toJS() as { metadata?: { name?: string }; scopes?: string[] } | null;
      if (!resource?.scopes) continue;
      scoped++;
      for (const app of resource.scopes)
        assert.ok(
          names.includes(app),
          `${file} ${resource.metadata?.name}: scope ${app} is not in apps.yaml`,
        );
    }
  assert.ok(scoped > 0, "no scoped resource found: the check read nothing");
});

test("the edge stitches the subschemas of exactly the apps the manifest says serve one", () => {
  const serving = manifest.apps.filter((a) => a.subschema).map((a) => a.name);
  // The edge's own reading of its allow-list (services/edge/src/schema-registry.ts).
  assert.deepEqual(sorted(subschemaApps(allowedInvocations(access, "edge"))), sorted(serving));
  assert.deepEqual(sorted(graphqlCallees(access, "edge")), sorted(serving));
});

test("the local database gets a schema for exactly the manifest's database apps", () => {
  const owners = manifest.apps.filter((a) => a.database).map((a) => a.name);
  assert.deepEqual(sorted(DB_SERVICES), sorted(owners));
});

// ---- the build files agree with packages/ and the manifest ----------------------------------------

const packages = sorted(
  readdirSync(path.join(REPO, "packages"), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(REPO, "packages", d.name, "package.json")))
    .map((d) => d.name),
);

test("the Tiltfile syncs the sources of every workspace package (NODE_PACKAGES)", () => {
  const tiltfile = readFileSync(path.join(REPO, "Tiltfile"), "utf8");
  const list = /^NODE_PACKAGES = \[(.*)\]$/m.exec(tiltfile)?.[1];
  assert.ok(list, "no NODE_PACKAGES line in the Tiltfile");
  assert.deepEqual(sorted([...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!)), packages);
});

test(`${NODE_DOCKERFILE} copies every workspace package's package.json and names the Node apps`, () => {
  const dockerfile = readFileSync(path.join(REPO, NODE_DOCKERFILE), "utf8");
  // Each stage that installs dependencies (build, deps) copies every package's package.json.
  for (const stage of dockerfile.split(/^FROM /m).filter((s) => /package-lock\.json/.test(s))) {
    const copied = [...stage.matchAll(/^COPY packages\/([^/]+)\/package\.json /gm)].map((m) => m[1]!);
    assert.deepEqual(sorted(copied), packages, `stage ${stage.split("\n")[0]}`);
  }
  const usage = /--build-arg APP=<([a-z|]+)>/.exec(dockerfile)?.[1];
  assert.ok(usage, "no usage line naming the apps");
  const nodeApps = manifest.apps.filter((a) => a.runtime === "node").map((a) => a.name);
  assert.deepEqual(sorted(usage.split("|")), sorted(nodeApps));
});
