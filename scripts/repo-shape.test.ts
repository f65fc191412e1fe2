// Every service has the same shape (SPEC §3): a new engineer finds their room by the folder name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { APPS } from "./mesh/ports.js";
import { dockerfileOf as appDockerfile, loadAppManifest, NODE_DOCKERFILE } from "./app-manifest.js";

const repo = path.resolve(import.meta.dirname, "..");
const services = readdirSync(path.join(repo, "services"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test("the launcher starts exactly the services there are", () => {
  assert.deepEqual(services, [...APPS].sort());
});

/** Each app's Dockerfile by its runtime in apps.yaml (a folder apps.yaml lacks fails the test above). */
const runtimes = new Map(loadAppManifest().apps.map((a) => [a.name, a.runtime]));
const dockerfileOf = (name: string) => appDockerfile({ name, runtime: runtimes.get(name) ?? "node" });

for (const name of services) {
  test(`services/${name} has src/, test/, migrations/, a README and a Dockerfile`, () => {
    const dir = path.join(repo, "services", name);
    for (const entry of ["src", "test", "migrations", "README.md"])
      assert.ok(existsSync(path.join(dir, entry)), `services/${name}/${entry} is missing`);
    assert.ok(existsSync(path.join(repo, dockerfileOf(name))), `${dockerfileOf(name)} is missing`);
  });

  test(`${dockerfileOf(name)} builds ${name} as a non-root user, multi-stage, and names its build command`, () => {
    const file = dockerfileOf(name);
    const text = readFileSync(path.join(repo, file), "utf8");
    const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0, "no USER instruction");
    assert.doesNotMatch(users.at(-1) ?? "", /^(root|0)(:|$)/, "the final USER is root");
    assert.match(text, new RegExp(`-f ${file}`), "the build command is not documented");
    assert.match(text, /^FROM .+ AS \w+/m, "not a multi-stage build");
    if (file === NODE_DOCKERFILE) {
      // The shipped image (the last stage) runs the compiled app with production dependencies only.
      const shipped = text.split(/^FROM /m).at(-1) ?? "";
      assert.match(text, /npm ci --omit=dev/, "the final image's dependencies are not production-only");
      assert.match(
        shipped,
        /^CMD \[.*"dist\/bundle\/src\/main\.mjs"\]$/m,
        "the image does not run the bundled app",
      );
      assert.doesNotMatch(shipped, /tsx/, "the shipped image runs TypeScript through tsx");
      assert.doesNotMatch(
        shipped,
        /--from=build \S+ \/app\/node_modules/,
        "the shipped image has dev dependencies",
      );
    }
  });
}
