// Every service has the same shape (SPEC §3): a new engineer finds their room by the folder name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { APPS } from "./mesh/ports.js";

const repo = path.resolve(import.meta.dirname, "..");
const services = readdirSync(path.join(repo, "services"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test("the launcher starts exactly the services there are", () => {
  assert.deepEqual(services, [...APPS].sort());
});

for (const name of services) {
  test(`services/${name} has src/, test/, migrations/, a README and a Dockerfile`, () => {
    const dir = path.join(repo, "services", name);
    for (const entry of ["src", "test", "migrations", "README.md", "Dockerfile"])
      assert.ok(existsSync(path.join(dir, entry)), `services/${name}/${entry} is missing`);
  });

  test(`services/${name}/Dockerfile runs as a non-root user and names its build context`, () => {
    const text = readFileSync(path.join(repo, "services", name, "Dockerfile"), "utf8");
    const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0, "no USER instruction");
    assert.doesNotMatch(users.at(-1) ?? "", /^(root|0)(:|$)/, "the final USER is root");
    assert.match(text, new RegExp(`-f services/${name}/Dockerfile`), "the build command is not documented");
    assert.match(text, /^FROM .+ AS \w+/m, "not a multi-stage build");
  });
}
