// CI's static validation of the Kubernetes delivery (scripts/test.sh, step "k8s static"):
//   node --import tsx --test scripts/validate-k8s.ts
// helm lint --strict and kubeconform -strict of every values profile (Kubernetes 1.34 schemas and
// the Dapr, Prometheus-operator and Istio CRD schemas, all offline), hadolint of every Dockerfile,
// the Dapr resources named as in components/local, and the committed generated files current.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CHART,
  DAPR_COPIES,
  PROFILES,
  RENDERED,
  REPO,
  daprCopies,
  daprNames,
  dockerfiles,
  generateDashboards,
  hadolint,
  helmLint,
  helmTemplate,
  k8sTools,
  kubeconform,
  localDaprDocs,
  parseManifest,
} from "./validate-k8s-lib.js";

const tools = k8sTools();
const rerun = "regenerate with `npx tsx scripts/validate-k8s-write.ts` and commit the result";

describe("helm chart", () => {
  const work = mkdtempSync(path.join(tmpdir(), "lsp-k8s-"));
  after(() => rmSync(work, { recursive: true, force: true }));
  const manifests = new Map<string, string>();
  let validation: { ok: boolean; output: string } | undefined;

  before(() => {
    for (const [profile, files] of Object.entries(PROFILES)) {
      const rendered = helmTemplate(tools, files);
      if (!rendered.ok) continue; // reported by the profile's own test
      const file = path.join(work, `${profile.replace(/\W+/g, "-")}.yaml`);
      writeFileSync(file, rendered.output);
      manifests.set(profile, file);
    }
    // A copy of the default profile with a misspelt field: proves the validation can fail.
    const broken = readFileSync(manifests.get("default") ?? "", "utf8").replace(
      "revisionHistoryLimit:",
      "revisionHistoryLimmit:",
    );
    writeFileSync(path.join(work, "broken.yaml"), broken);
    validation = kubeconform(tools, [...manifests.values(), path.join(work, "broken.yaml")]);
  });

  /** kubeconform's lines about one file. */
  const findings = (file: string) =>
    (validation?.output ?? "").split("\n").filter((l) => l.startsWith(`${file} - `));

  for (const [profile, files] of Object.entries(PROFILES)) {
    test(`profile ${profile}: helm lint --strict`, () => {
      const res = helmLint(tools, files);
      assert.ok(res.ok, res.output);
    });

    test(`profile ${profile}: helm template is valid against the Kubernetes and CRD schemas`, () => {
      const rendered = helmTemplate(tools, files);
      assert.ok(rendered.ok, rendered.output);
      const file = manifests.get(profile) ?? "";
      assert.ok(parseManifest(rendered.output).length > 50, "suspiciously few resources");
      assert.deepEqual(findings(file), [], `kubeconform found problems in profile ${profile}`);
    });
  }

  test("the validation fails on a misspelt field (the check can fail)", () => {
    assert.equal(validation?.ok, false, "kubeconform accepted an unknown Deployment field");
    const lines = findings(path.join(work, "broken.yaml"));
    assert.ok(lines.length > 0 && lines.every((l) => l.includes("revisionHistoryLimmit")), lines.join("\n"));
  });

  test("values.schema.json refuses an unknown mesh", () => {
    const res = helmTemplate(tools, [], ["--set", "mesh.provider=consul"]);
    assert.equal(res.ok, false);
    assert.match(res.output, /mesh/);
  });

  test("every app gets a ServiceAccount, Deployment, Service, HPA, PDB, NetworkPolicy and ServiceMonitor", () => {
    const docs = parseManifest(helmTemplate(tools, []).output);
    const apps = ["auth", "sales", "dashboard", "payments", "notifications", "ai", "edge"];
    const kinds = [
      "ServiceAccount",
      "Deployment",
      "Service",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "NetworkPolicy",
      "ServiceMonitor",
    ];
    for (const app of apps)
      for (const kind of kinds)
        assert.ok(
          docs.some((d) => d.kind === kind && d.metadata?.name === `lsp-${app}`),
          `${kind} lsp-${app} missing`,
        );
    assert.ok(
      docs.some((d) => d.kind === "PodMonitor"),
      "no PodMonitor for the sidecars",
    );
  });

  test("Deployments: Dapr annotations, probes, requests and limits, non-root, read-only root filesystem", () => {
    type Container = {
      resources?: { requests?: object; limits?: object };
      readinessProbe?: object;
      livenessProbe?: object;
      securityContext?: { readOnlyRootFilesystem?: boolean };
    };
    type Deployment = {
      kind: string;
      metadata: { name: string };
      spec: {
        template: {
          metadata: { annotations: Record<string, string> };
          spec: { securityContext: { runAsNonRoot?: boolean }; containers: Container[] };
        };
      };
    };
    const deployments = (parseManifest(helmTemplate(tools, []).output) as unknown as Deployment[]).filter(
      (d) => d.kind === "Deployment",
    );
    assert.equal(deployments.length, 7);
    for (const d of deployments) {
      const pod = d.spec.template;
      const app = d.metadata.name.replace(/^lsp-/, "");
      assert.equal(pod.metadata.annotations["dapr.io/app-id"], app);
      assert.equal(pod.metadata.annotations["dapr.io/config"], "daprconfig");
      assert.equal(pod.metadata.annotations["dapr.io/enable-metrics"], "true");
      assert.equal(pod.metadata.annotations["linkerd.io/inject"], "enabled");
      assert.equal(pod.spec.securityContext.runAsNonRoot, true);
      for (const c of pod.spec.containers) {
        assert.ok(c.resources?.requests && c.resources.limits, `${app}: requests and limits`);
        assert.ok(c.readinessProbe && c.livenessProbe, `${app}: probes`);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
      }
    }
  });

  test("the schema owner's URL reaches only the migrate init container of each node app with a database", () => {
    type Container = {
      name: string;
      image: string;
      env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
      resources?: { requests?: object; limits?: object };
      securityContext?: {
        readOnlyRootFilesystem?: boolean;
        allowPrivilegeEscalation?: boolean;
        capabilities?: { drop?: string[] };
      };
    };
    type Deployment = {
      kind: string;
      metadata: { name: string };
      spec: { template: { spec: { containers: Container[]; initContainers?: Container[] } } };
    };
    for (const [profile, files] of Object.entries(PROFILES)) {
      const deployments = (
        parseManifest(helmTemplate(tools, files).output) as unknown as Deployment[]
      ).filter(
        (d) =>
          d.kind === "Deployment" &&
          /^lsp-(auth|sales|dashboard|payments|notifications)$/.test(d.metadata.name),
      );
      assert.equal(deployments.length, 5, profile);
      for (const d of deployments) {
        const app = d.metadata.name.replace(/^lsp-/, "");
        const where = `${profile}: ${app}`;
        const [app0] = d.spec.template.spec.containers;
        const init = d.spec.template.spec.initContainers ?? [];
        assert.deepEqual(
          init.map((c) => c.name),
          ["migrate"],
          `${where}: one migrate init container`,
        );
        const migrate = init[0] as Container;
        const env = new Map((migrate.env ?? []).map((e) => [e.name, e]));
        assert.equal(migrate.image, app0?.image, `${where}: the app's own image`);
        assert.equal(env.get("LSP_MIGRATE_ONLY")?.value, "1", where);
        assert.deepEqual(env.get("DATABASE_MIGRATION_URL")?.valueFrom?.secretKeyRef, {
          name: `${app}-database-migration-url`,
          key: `${app}-database-migration-url`,
        });
        assert.equal(env.has("DATABASE_URL"), false, `${where}: the migrate step needs the owner only`);
        assert.ok(
          migrate.resources?.requests && migrate.resources.limits,
          `${where}: init requests and limits`,
        );
        assert.deepEqual(migrate.securityContext, {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        for (const c of d.spec.template.spec.containers) {
          const names = (c.env ?? []).map((e) => e.name);
          assert.ok(
            !names.includes("DATABASE_MIGRATION_URL"),
            `${where}: ${c.name} has no DATABASE_MIGRATION_URL`,
          );
          assert.ok(!names.includes("MIGRATE_ON_START"), `${where}: ${c.name} does not migrate`);
        }
        assert.equal(
          app0?.env?.find((e) => e.name === "DATABASE_URL")?.valueFrom?.secretKeyRef?.name,
          `${app}-database-url`,
        );
      }
    }
    // Nor can an app read an owner's URL through a Dapr secret store (payments may read any Secret).
    type DaprConfig = {
      kind: string;
      metadata: { name: string };
      spec: { secrets?: { scopes: { storeName: string; deniedSecrets?: string[] }[] } };
    };
    const config = (parseManifest(helmTemplate(tools, []).output) as unknown as DaprConfig[]).find(
      (d) => d.kind === "Configuration" && d.metadata.name === "daprconfig",
    );
    for (const store of ["secretstore", "kubernetes"]) {
      const denied = config?.spec.secrets?.scopes.find((s) => s.storeName === store)?.deniedSecrets ?? [];
      for (const app of ["auth", "sales", "dashboard", "payments", "notifications"])
        assert.ok(denied.includes(`${app}-database-migration-url`), `${store} denies ${app}'s owner URL`);
    }
  });
});

describe("Dapr resources", () => {
  test("the chart has every Component, Configuration, Resiliency and Subscription of components/local, by name", () => {
    const local = daprNames(localDaprDocs().flatMap((f) => f.docs));
    const chart = daprNames(parseManifest(helmTemplate(tools, []).output));
    const missing = [...local].filter((n) => !chart.has(n));
    assert.deepEqual(missing, [], `missing in the chart (templates/dapr.yaml or ${rerun})`);
    const extra = [...chart].filter((n) => !local.has(n));
    assert.deepEqual(extra, [], "the chart has Dapr resources the local mesh does not");
  });

  test("charts/lsp/files/dapr/ is current with components/local", () => {
    const want = daprCopies(tools);
    const have = readdirSync(DAPR_COPIES).sort();
    assert.deepEqual(have, [...want.keys()].sort(), rerun);
    for (const [file, text] of want)
      assert.equal(readFileSync(path.join(DAPR_COPIES, file), "utf8"), text, `${file}: ${rerun}`);
  });
});

describe("generated files", () => {
  test("the committed rendered default profile is current", () => {
    const rendered = helmTemplate(tools, []);
    assert.ok(rendered.ok, rendered.output);
    assert.equal(
      readFileSync(RENDERED, "utf8"),
      rendered.output,
      `${path.relative(REPO, RENDERED)}: ${rerun}`,
    );
  });

  test("the Grafana dashboards are current with tools/k8s/dashboards.ts", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lsp-dashboards-"));
    try {
      generateDashboards(dir);
      const committed = path.join(CHART, "files", "dashboards");
      assert.deepEqual(readdirSync(committed).sort(), readdirSync(dir).sort(), rerun);
      for (const f of readdirSync(dir))
        assert.equal(
          readFileSync(path.join(committed, f), "utf8"),
          readFileSync(path.join(dir, f), "utf8"),
          rerun,
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Dockerfiles", () => {
  for (const file of dockerfiles()) {
    test(`${file} passes hadolint`, () => {
      const res = hadolint(tools, path.join(REPO, file));
      assert.ok(res.ok, res.output);
    });
  }
});
