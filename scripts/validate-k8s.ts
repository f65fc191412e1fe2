// CI's static validation of the Kubernetes delivery (scripts/test.sh, step "k8s static"):
//   node --import tsx --test scripts/validate-k8s.ts
// helm lint --strict and kubeconform -strict of every values profile (Kubernetes 1.34 schemas and
// the Dapr, Prometheus-operator and Istio CRD schemas, all offline), hadolint of every Dockerfile,
// the Dapr resources named as in components/local, the access rules of components/access.yaml
// (Dapr access control, secret scopes, topic scopes, RBAC, NetworkPolicies) rendered exactly, and
// the committed generated files current.
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { loadAppManifest } from "./app-manifest.js";
import { loadAccess, sharedTopicsOf } from "./mesh/access.js";
import { kafkaMetadata } from "./mesh/kafka.js";
import {
  ACCESS_COPY,
  ACCESS_SOURCE,
  type Access,
  type AccessControl,
  CHART,
  DAPR_COPIES,
  PROFILES,
  RENDERED,
  REPO,
  daprCopies,
  daprNames,
  dockerfiles,
  expectedAccessControl,
  expectedCallers,
  expectedSecretScopes,
  generateDashboards,
  hadolint,
  helmLint,
  helmTemplate,
  k8sTools,
  kubeconform,
  localDaprDocs,
  normalizeAcl,
  parseAccess,
  parseManifest,
  parseTopicScopes,
  type SecretScope,
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

  test("pubsub-fanout: one consumer group per pod of each fan-out app, made by the init container with the launcher's script", async () => {
    const { pubsubScopeMetadata, PUBSUB_FANOUT } = await import("./mesh/access.js");
    const { fanoutApps, fanoutTopics } = await import("./mesh/fanout.js");
    const access = loadAccess(REPO);
    const docs = parseManifest(helmTemplate(tools, []).output) as unknown as {
      kind: string;
      metadata: { name: string };
      scopes?: string[];
      spec: {
        metadata?: { name: string; value?: string }[];
        template?: {
          spec: {
            initContainers?: { name: string; args?: string[]; env?: { name: string; value?: string }[] }[];
          };
        };
      };
    }[];
    const fanout = docs.find((d) => d.kind === "Component" && d.metadata.name === PUBSUB_FANOUT);
    assert.ok(fanout, "the chart renders pubsub-fanout");
    const meta = new Map((fanout.spec.metadata ?? []).map((m) => [m.name, m.value]));
    assert.equal(meta.get("consumerID"), "{podName}");
    assert.equal(meta.has("maxLenApprox"), false, "never trimmed by length");
    const sorted = (scopes: string) =>
      Object.fromEntries([...parseTopicScopes(scopes)].map(([a, t]) => [a, [...t].sort()]).sort());
    for (const [key, value] of Object.entries(pubsubScopeMetadata(access, PUBSUB_FANOUT)))
      if (key.endsWith("Scopes")) assert.deepEqual(sorted(meta.get(key) ?? ""), sorted(value), key);
      else assert.equal(meta.get(key), value, key);
    assert.deepEqual([...(fanout.scopes ?? [])].sort(), fanoutApps(access).sort());
    const lua = readFileSync(path.join(CHART, "files", "redis", "fanout-groups.lua"), "utf8");
    for (const app of fanoutApps(access)) {
      const deployment = docs.find((d) => d.kind === "Deployment" && d.metadata.name === `lsp-${app}`);
      const init = deployment?.spec.template?.spec.initContainers?.find((c) => c.name === "fanout-groups");
      assert.ok(init, `${app} makes its groups before daprd starts`);
      assert.equal(init.env?.find((e) => e.name === "FANOUT_SCRIPT")?.value, lua);
      assert.match(
        init.args?.join(" ") ?? "",
        new RegExp(` ${fanoutTopics(access)[app]!.length} ${fanoutTopics(access)[app]!.join(" ")} `),
      );
    }
    // No other app has the init container.
    const others = docs.filter(
      (d) =>
        d.kind === "Deployment" &&
        d.spec?.template?.spec.initContainers?.some((c) => c.name === "fanout-groups") &&
        !fanoutApps(access).some((a) => d.metadata.name === `lsp-${a}`),
    );
    assert.deepEqual(
      others.map((d) => d.metadata.name),
      [],
    );
  });

  test("dapr.pubsub.type=kafka keeps both component names, a group per pod from the newest offset, no init container", () => {
    const res = helmTemplate(
      tools,
      [],
      ["--set", "dapr.pubsub.type=kafka", "--set", "dapr.pubsub.kafka.brokers=kafka-0.kafka:9092"],
    );
    assert.ok(res.ok, res.output);
    const docs = parseManifest(res.output) as unknown as {
      kind: string;
      metadata: { name: string };
      spec: {
        type?: string;
        metadata?: { name: string; value?: string }[];
        template?: { spec: { initContainers?: { name: string }[] } };
      };
    }[];
    const pubsubs = docs.filter((d) => d.kind === "Component" && d.spec.type === "pubsub.kafka");
    assert.deepEqual(pubsubs.map((d) => d.metadata.name).sort(), ["pubsub", "pubsub-fanout"]);
    // The local mesh's LSP_PUBSUB=kafka settings (kafka.ts kafkaMetadata, which
    // test/e2e/kafka-pubsub.test.ts runs on a real broker) are the chart's: `pubsub-fanout` a group
    // per pod from the newest offset, `pubsub` a group per app (Dapr's consumerID, the app id)
    // from the oldest.
    for (const name of ["pubsub", "pubsub-fanout"]) {
      const meta = new Map(
        (pubsubs.find((d) => d.metadata.name === name)?.spec.metadata ?? []).map((m) => [m.name, m.value]),
      );
      for (const want of kafkaMetadata(name, "kafka-0.kafka:9092"))
        assert.equal(meta.get(want.name), want.value, `${name} ${want.name}`);
      if (name === "pubsub") {
        assert.equal(meta.get("consumerGroup"), undefined);
        assert.equal(meta.get("consumerID"), undefined);
      }
    }
    assert.deepEqual(
      kafkaMetadata("pubsub-fanout", "b").filter((m) => m.name !== "brokers"),
      [
        { name: "authType", value: "none" },
        { name: "consumerGroup", value: "{podName}" },
        { name: "initialOffset", value: "newest" },
      ],
    );
    assert.deepEqual(
      kafkaMetadata("pubsub", "b").filter((m) => m.name !== "brokers"),
      [
        { name: "authType", value: "none" },
        { name: "initialOffset", value: "oldest" },
      ],
    );
    assert.ok(
      docs.every((d) => !d.spec?.template?.spec.initContainers?.some((c) => c.name === "fanout-groups")),
      "Kafka needs no group made beforehand",
    );
    // No app health check on Kafka (its pause and resume stalls Dapr's Kafka consumer), as the
    // local mesh (scripts/mesh/kafka.ts appHealthCheckEnabled); Redis keeps it (test below).
    const annotations = (d: (typeof docs)[number]) =>
      (d.spec?.template as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata
        ?.annotations ?? {};
    const daprApps = docs.filter((d) => annotations(d)["dapr.io/enabled"] === "true");
    assert.ok(daprApps.length > 0);
    for (const d of daprApps)
      assert.equal(annotations(d)["dapr.io/enable-app-health-check"], undefined, d.metadata.name);
    const onRedis = parseManifest(helmTemplate(tools, [], []).output) as unknown as typeof docs;
    const redisApps = onRedis.filter((d) => annotations(d)["dapr.io/enabled"] === "true");
    assert.equal(redisApps.length, daprApps.length);
    for (const d of redisApps)
      assert.equal(annotations(d)["dapr.io/enable-app-health-check"], "true", d.metadata.name);
    // Consumer lag: kafka-exporter on the same brokers, for access.yaml's topics; no redis_exporter.
    const exporterArgs = (all: typeof docs, name: string) =>
      (
        all.find((d) => d.kind === "Deployment" && d.metadata.name === name)?.spec.template?.spec as
          { containers: { args?: string[] }[] } | undefined
      )?.containers[0]?.args;
    const args = exporterArgs(docs, "lsp-kafka-exporter");
    assert.ok(args, "kafka-exporter is rendered");
    assert.ok(args.includes("--kafka.server=kafka-0.kafka:9092"), args.join(" "));
    const topics = loadAccess(REPO).topics;
    assert.ok(args.includes(`--topic.filter=^(${topics.join("|")})$`), args.join(" "));
    assert.ok(!args.some((a) => a.startsWith("--sasl")), "no SASL with authType none");
    const deployed = (all: typeof docs) =>
      all.filter((d) => d.kind === "Deployment").map((d) => d.metadata.name);
    assert.ok(!deployed(docs).includes("lsp-redis-exporter"));
    assert.ok(!deployed(onRedis).includes("lsp-kafka-exporter"));
    assert.ok(deployed(onRedis).includes("lsp-redis-exporter"));
    const missing = helmTemplate(tools, [], ["--set", "dapr.pubsub.type=kafka"]);
    assert.equal(missing.ok, false);
    assert.match(missing.output, /dapr.pubsub.kafka.brokers is required/);
  });

  test("dapr.pubsub.kafka.authType=password: the user, the password from the kafka-password Secret; no half-wired auth", () => {
    const kafka = ["--set", "dapr.pubsub.type=kafka", "--set", "dapr.pubsub.kafka.brokers=b-1.example:9096"];
    const res = helmTemplate(
      tools,
      [],
      [
        ...kafka,
        "--set",
        "dapr.pubsub.kafka.authType=password",
        "--set",
        "dapr.pubsub.kafka.saslUsername=lsp",
      ],
    );
    assert.ok(res.ok, res.output);
    const pubsubs = (
      parseManifest(res.output) as unknown as {
        kind: string;
        spec: { type?: string; metadata?: { name: string; value?: string; secretKeyRef?: unknown }[] };
      }[]
    ).filter((d) => d.kind === "Component" && d.spec.type === "pubsub.kafka");
    assert.equal(pubsubs.length, 2);
    for (const c of pubsubs) {
      const meta = new Map((c.spec.metadata ?? []).map((m) => [m.name, m]));
      assert.equal(meta.get("saslUsername")?.value, "lsp");
      assert.deepEqual(meta.get("saslPassword")?.secretKeyRef, {
        name: "kafka-password",
        key: "kafka-password",
      });
      assert.equal(meta.get("saslMechanism")?.value, "SHA-512");
    }
    // kafka-exporter signs in the same way, its password from the same Secret.
    const exporter = (
      parseManifest(res.output) as unknown as {
        kind: string;
        metadata: { name: string };
        spec: {
          template?: {
            spec: { containers: { args: string[]; env?: { name: string; valueFrom?: unknown }[] }[] };
          };
        };
      }[]
    ).find((d) => d.kind === "Deployment" && d.metadata.name === "lsp-kafka-exporter")?.spec.template?.spec
      .containers[0];
    assert.ok(exporter);
    for (const arg of [
      "--sasl.enabled",
      "--tls.enabled",
      "--sasl.username=lsp",
      "--sasl.password=$(KAFKA_PASSWORD)",
      "--sasl.mechanism=scram-sha512",
    ])
      assert.ok(exporter.args.includes(arg), `${arg} in ${exporter.args.join(" ")}`);
    assert.deepEqual(exporter.env?.find((e) => e.name === "KAFKA_PASSWORD")?.valueFrom, {
      secretKeyRef: { name: "kafka-password", key: "kafka-password" },
    });
    const noUser = helmTemplate(tools, [], [...kafka, "--set", "dapr.pubsub.kafka.authType=password"]);
    assert.equal(noUser.ok, false);
    assert.match(noUser.output, /saslUsername is required/);
    // Dapr's mtls and oidc need certificates and token endpoints the chart does not pass yet.
    const mtls = helmTemplate(tools, [], [...kafka, "--set", "dapr.pubsub.kafka.authType=mtls"]);
    assert.equal(mtls.ok, false);
  });

  test("values.schema.json refuses an unknown mesh", () => {
    const res = helmTemplate(tools, [], ["--set", "mesh.provider=consul"]);
    assert.equal(res.ok, false);
    assert.match(res.output, /mesh/);
  });

  test("every app gets a ServiceAccount, Deployment, Service, HPA, PDB, NetworkPolicy and ServiceMonitor", () => {
    const docs = parseManifest(helmTemplate(tools, []).output);
    const apps = loadAppManifest().apps.map((a) => a.name);
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
          metadata: { annotations?: Record<string, string> };
          spec: { securityContext: { runAsNonRoot?: boolean }; containers: Container[] };
        };
      };
    };
    const workloads = (parseManifest(helmTemplate(tools, []).output) as unknown as Deployment[]).filter(
      (d) => d.kind === "Deployment",
    );
    // Every workload, the apps' and the redis exporter's: non-root, requests and limits, probes,
    // a read-only root filesystem.
    for (const d of workloads) {
      assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true, d.metadata.name);
      for (const c of d.spec.template.spec.containers) {
        assert.ok(c.resources?.requests && c.resources.limits, `${d.metadata.name}: requests and limits`);
        assert.ok(c.readinessProbe && c.livenessProbe, `${d.metadata.name}: probes`);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, d.metadata.name);
      }
    }
    // The apps: one Dapr-enabled Deployment each (the exporter has no sidecar).
    const deployments = workloads.filter((d) => d.spec.template.metadata.annotations?.["dapr.io/app-id"]);
    assert.equal(deployments.length, 7);
    assert.deepEqual(
      workloads.filter((d) => !deployments.includes(d)).map((d) => d.metadata.name),
      ["lsp-redis-exporter"],
    );
    for (const d of deployments) {
      const annotations = d.spec.template.metadata.annotations ?? {};
      const app = d.metadata.name.replace(/^lsp-/, "");
      assert.equal(annotations["dapr.io/app-id"], app);
      assert.equal(annotations["dapr.io/config"], `daprconfig-${app}`);
      assert.equal(annotations["dapr.io/enable-metrics"], "true");
      assert.equal(annotations["linkerd.io/inject"], "enabled");
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
        // Besides the migrate step, a fan-out app makes its consumer groups (fanout-groups).
        assert.deepEqual(
          init.map((c) => c.name).filter((n) => n !== "fanout-groups"),
          ["migrate"],
          `${where}: one migrate init container`,
        );
        const migrate = init.find((c) => c.name === "migrate") as Container;
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
        for (const c of [...d.spec.template.spec.containers, ...init.filter((i) => i !== migrate)]) {
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
    // Nor can an app read an owner's URL through a Dapr secret store: each sidecar is denied
    // everything of both Kubernetes-backed stores but the secrets access.yaml gives it.
    type DaprConfig = {
      kind: string;
      metadata: { name: string };
      spec: { secrets?: { scopes: SecretScope[] } };
    };
    const configs = (parseManifest(helmTemplate(tools, []).output) as unknown as DaprConfig[]).filter(
      (d) => d.kind === "Configuration",
    );
    assert.equal(configs.length, 7);
    for (const config of configs)
      for (const store of ["secretstore", "kubernetes"]) {
        const scope = config.spec.secrets?.scopes.find((s) => s.storeName === store);
        assert.equal(scope?.defaultAccess, "deny", `${config.metadata.name}: ${store}`);
        for (const app of ["auth", "sales", "dashboard", "payments", "notifications", "ai"])
          assert.ok(
            !(scope?.allowedSecrets ?? []).includes(`${app}-database-migration-url`),
            `${config.metadata.name} may not read ${app}'s owner URL`,
          );
      }
  });
});

describe("Dapr resources", () => {
  test("the chart has every Component, Configuration, Resiliency and Subscription of components/local, by name", () => {
    // In the cluster each app's sidecar has its own Configuration (its access control and secret
    // scopes), daprconfig-<app>, where the local mesh names each generated one daprconfig; the
    // merchant-credentials store exists wherever access.yaml gives an app merchant credentials.
    const access = parseAccess(readFileSync(ACCESS_SOURCE, "utf8"));
    const local = new Set(
      [...daprNames(localDaprDocs().flatMap((f) => f.docs))].flatMap((n) =>
        n === "Configuration/daprconfig" ? Object.keys(access.apps).map((app) => `${n}-${app}`) : [n],
      ),
    );
    if (Object.values(access.apps).some((a) => a.merchantCredentials))
      local.add("Component/merchant-credentials");
    const chart = daprNames(parseManifest(helmTemplate(tools, []).output));
    const missing = [...local].filter((n) => !chart.has(n));
    assert.deepEqual(missing, [], `missing in the chart (templates/dapr.yaml or ${rerun})`);
    const extra = [...chart].filter((n) => !local.has(n));
    assert.deepEqual(extra, [], "the chart has Dapr resources the local mesh does not");
  });

  test("charts/lsp/files/dapr/ is current with components/local and components/access.yaml", () => {
    const want = daprCopies(tools);
    want.set("access.yaml", readFileSync(ACCESS_SOURCE, "utf8"));
    const have = readdirSync(DAPR_COPIES).sort();
    assert.deepEqual(have, [...want.keys()].sort(), rerun);
    for (const [file, text] of want)
      assert.equal(readFileSync(path.join(DAPR_COPIES, file), "utf8"), text, `${file}: ${rerun}`);
  });
});

describe("access rules from components/access.yaml", () => {
  type Env = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
  type Container = {
    name: string;
    env?: Env[];
    ports?: { name: string; containerPort: number }[];
    readinessProbe?: { httpGet?: { path: string; port: string | number } };
    livenessProbe?: { httpGet?: { path: string; port: string | number } };
  };
  type Manifest = {
    kind: string;
    metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
    spec?: Record<string, unknown>;
    rules?: { resources?: string[]; verbs?: string[]; resourceNames?: string[] }[];
    subjects?: { name: string; namespace: string }[];
    roleRef?: { name: string };
    scopes?: string[];
    stringData?: Record<string, string>;
    data?: Record<string, string>;
  };
  type Deployment = {
    metadata: { name: string };
    spec: {
      template: {
        metadata: { annotations: Record<string, string> };
        spec: { containers: Container[]; initContainers?: Container[] };
      };
    };
  };
  type DaprConfig = {
    metadata: { name: string };
    spec: {
      mtls?: { enabled?: boolean };
      accessControl?: AccessControl;
      secrets?: { scopes: SecretScope[] };
    };
  };
  type Component = {
    metadata: { name: string };
    spec: { metadata: { name: string; value?: string }[] };
    scopes?: string[];
  };
  type NetworkPolicy = {
    metadata: { name: string };
    spec: {
      ingress: {
        from: {
          podSelector?: { matchExpressions: { key: string; values: string[] }[] };
          namespaceSelector?: { matchLabels: Record<string, string> };
        }[];
        ports: { port: number }[];
      }[];
    };
  };

  const access = parseAccess(readFileSync(ACCESS_SOURCE, "utf8"));
  const apps = Object.keys(access.apps).sort();
  const namespace = "lsp";
  const renders = new Map<string, Manifest[]>();
  /** A profile's parsed render (memoised: several tests read the same one; callers do not mutate it). */
  const render = (files: string[], extra: string[] = []): Manifest[] => {
    const key = JSON.stringify([files, extra]);
    const hit = renders.get(key);
    if (hit) return hit;
    const res = helmTemplate(tools, files, extra);
    assert.ok(res.ok, res.output);
    const docs = parseManifest(res.output) as unknown as Manifest[];
    renders.set(key, docs);
    return docs;
  };
  const one = <T>(docs: Manifest[], kind: string, name: string): T => {
    const found = docs.filter((d) => d.kind === kind && d.metadata.name === name);
    assert.equal(found.length, 1, `one ${kind} ${name}`);
    return found[0] as unknown as T;
  };

  /** Every difference between a render and access.yaml (empty = the render enforces the file). */
  function accessFindings(docs: Manifest[], want: Access): string[] {
    const out: string[] = [];
    const wantApps = Object.keys(want.apps).sort();
    for (const app of wantApps) {
      const config = docs.find(
        (d) => d.kind === "Configuration" && d.metadata.name === `daprconfig-${app}`,
      ) as DaprConfig | undefined;
      if (!config) {
        out.push(`${app}: no Configuration daprconfig-${app}`);
        continue;
      }
      if (config.spec.mtls?.enabled !== true) out.push(`${app}: mtls not enabled`);
      const acl = normalizeAcl(config.spec.accessControl);
      const wantAcl = normalizeAcl(expectedAccessControl(want, app, namespace));
      try {
        assert.deepEqual(acl, wantAcl);
      } catch {
        out.push(`${app}: accessControl ${JSON.stringify(acl)} != ${JSON.stringify(wantAcl)}`);
      }
      const scopes = config.spec.secrets?.scopes ?? [];
      try {
        assert.deepEqual(
          [...scopes].sort((a, b) => a.storeName.localeCompare(b.storeName)),
          expectedSecretScopes(want, app).sort((a, b) => a.storeName.localeCompare(b.storeName)),
        );
      } catch {
        out.push(`${app}: secret scopes ${JSON.stringify(scopes)}`);
      }
    }
    const pubsub = docs.find((d) => d.kind === "Component" && d.metadata.name === "pubsub") as
      Component | undefined;
    const meta = new Map((pubsub?.spec.metadata ?? []).map((m) => [m.name, m.value ?? ""]));
    for (const key of ["allowedTopics", "protectedTopics"]) {
      const topics = (meta.get(key) ?? "").split(",").sort();
      if (JSON.stringify(topics) !== JSON.stringify([...want.topics].sort()))
        out.push(`pubsub ${key}: ${meta.get(key)}`);
    }
    for (const [key, pick] of [
      ["publishingScopes", (a: Access["apps"][string]) => a.publishes],
      // An app reads its fan-out topics through pubsub-fanout (checked in its own test), not here.
      ["subscriptionScopes", (a: Access["apps"][string]) => sharedTopicsOf(a)],
    ] as const) {
      let scopes: Map<string, string[]>;
      try {
        scopes = parseTopicScopes(meta.get(key) ?? "");
      } catch (err) {
        out.push(`pubsub ${key}: ${String(err)}`);
        continue;
      }
      const have = Object.fromEntries([...scopes].map(([a, t]) => [a, [...t].sort()]));
      const wantScopes = Object.fromEntries(
        wantApps.map((a) => [a, [...pick(want.apps[a] as never)].sort()]),
      );
      try {
        assert.deepEqual(have, wantScopes);
      } catch {
        out.push(`pubsub ${key}: ${meta.get(key)}`);
      }
    }
    const users = wantApps.filter((a) => {
      const app = want.apps[a];
      return app && app.publishes.length + sharedTopicsOf(app).length > 0;
    });
    if (JSON.stringify([...(pubsub?.scopes ?? [])].sort()) !== JSON.stringify(users))
      out.push(`pubsub scopes: ${JSON.stringify(pubsub?.scopes)}`);
    return out;
  }

  test("charts/lsp/files/dapr/access.yaml is components/access.yaml verbatim", () => {
    assert.equal(readFileSync(ACCESS_COPY, "utf8"), readFileSync(ACCESS_SOURCE, "utf8"), rerun);
  });

  for (const [profile, files] of Object.entries(PROFILES)) {
    test(`profile ${profile}: each sidecar's Configuration and the pub/sub topic scopes are exactly access.yaml`, () => {
      const docs = render(files);
      assert.deepEqual(accessFindings(docs, access), []);
      for (const app of apps) {
        const d = one<Deployment>(docs, "Deployment", `lsp-${app}`);
        assert.equal(d.spec.template.metadata.annotations["dapr.io/config"], `daprconfig-${app}`);
      }
    });
  }

  test("the comparison fails when the chart's copy of access.yaml differs (the check can fail)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lsp-chart-"));
    try {
      cpSync(CHART, dir, { recursive: true });
      // notifications loses its call to sales and its subscription to `ai`; edge may read a secret.
      const changed = readFileSync(ACCESS_SOURCE, "utf8")
        .replace(/(\n {2}notifications:\n {4}invokes:\n(?: {6}.*\n)*?) {6}sales: \[POST \/graphql\]\n/, "$1")
        .replace(/(\n {4}subscribes:\n {6}- payments\n) {6}- ai\n/, "$1")
        .replace(/(\n {2}edge:[\s\S]*?\n {4})secrets: \[[^\]]*\]/, "$1secrets: [auth-otp-pepper]");
      assert.notEqual(changed, readFileSync(ACCESS_SOURCE, "utf8"));
      writeFileSync(path.join(dir, "files", "dapr", "access.yaml"), changed);
      const res = helmTemplate(tools, [], [], dir);
      assert.ok(res.ok, res.output);
      const findings = accessFindings(parseManifest(res.output) as unknown as Manifest[], access);
      assert.ok(
        findings.some((f) => f.startsWith("sales: accessControl")),
        findings.join("\n"),
      );
      assert.ok(
        findings.some((f) => f.startsWith("edge: secret scopes")),
        findings.join("\n"),
      );
      assert.ok(
        findings.some((f) => f.startsWith("pubsub subscriptionScopes")),
        findings.join("\n"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an app of values.yaml missing from the chart's access.yaml fails the render", () => {
    // values.schema.json already refuses an unknown or missing app in values; this is the other side.
    const dir = mkdtempSync(path.join(tmpdir(), "lsp-chart-"));
    try {
      cpSync(CHART, dir, { recursive: true });
      const source = readFileSync(ACCESS_SOURCE, "utf8");
      const withoutAi = source.replace(/\n {2}ai:\n(?: {4}.*\n| {6}.*\n)*/, "\n");
      assert.notEqual(withoutAi, source);
      writeFileSync(path.join(dir, "files", "dapr", "access.yaml"), withoutAi);
      const res = helmTemplate(tools, [], [], dir);
      assert.equal(res.ok, false, "rendered an app access.yaml does not know");
      assert.match(res.output, /access\.yaml names the apps \[auth .*\], values\.yaml \[ai auth /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Roles: only access.yaml's secrets in the release namespace; merchant credentials in their own namespace, payments only", () => {
    for (const [profile, files] of Object.entries(PROFILES)) {
      const docs = render(files);
      const roles = docs.filter((d) => d.kind === "Role");
      const merchantApps = apps.filter((a) => access.apps[a]?.merchantCredentials);
      for (const app of apps) {
        const secrets = access.apps[app]?.secrets ?? [];
        const role = roles.find((r) => r.metadata.name === `lsp-${app}-secrets`);
        if (!secrets.length) assert.equal(role, undefined, `${profile}: ${app} may read no Secret`);
        else
          assert.deepEqual(role?.rules, [
            { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: secrets },
          ]);
      }
      // No Role of the release namespace lets anyone read an unnamed Secret.
      for (const r of roles.filter((r) => !r.metadata.namespace))
        for (const rule of r.rules ?? [])
          if (rule.resources?.includes("secrets"))
            assert.ok(rule.resourceNames?.length, `${profile}: ${r.metadata.name} reads unnamed Secrets`);
      const merchant = roles.filter((r) => r.metadata.namespace === "lsp-merchant-credentials");
      assert.deepEqual(
        merchant.map((r) => r.metadata.name),
        merchantApps.map((a) => `lsp-${a}-merchant-credentials`),
      );
      const bindings = docs.filter(
        (d) => d.kind === "RoleBinding" && d.metadata.namespace === "lsp-merchant-credentials",
      );
      assert.deepEqual(
        bindings.flatMap((b) => b.subjects ?? []),
        merchantApps.map((a) => ({ kind: "ServiceAccount", name: `lsp-${a}`, namespace })),
      );
      const store = one<Component>(docs, "Component", "merchant-credentials");
      assert.deepEqual(store.scopes, merchantApps);
      assert.deepEqual(store.spec.metadata, [
        { name: "defaultNamespace", value: "lsp-merchant-credentials" },
      ]);
      for (const app of merchantApps) {
        const env =
          one<Deployment>(docs, "Deployment", `lsp-${app}`).spec.template.spec.containers[0]?.env ?? [];
        assert.equal(
          env.find((e) => e.name === "MERCHANT_CREDENTIALS_NAMESPACE")?.value,
          "lsp-merchant-credentials",
        );
      }
      const readers = apps.filter((a) => access.apps[a]?.secrets.length);
      assert.deepEqual(one<Component>(docs, "Component", "secretstore").scopes, readers);
    }
  });

  test("NetworkPolicies: callers' sidecars from access.yaml, monitoring on the ops and daprd metrics ports only, the ingress on the edge's app port only", () => {
    const docs = render([]);
    const actorTypes: Record<string, string[]> = { ai: ["LocationInsights"] };
    for (const app of apps) {
      const np = one<NetworkPolicy>(docs, "NetworkPolicy", `lsp-${app}`);
      const sidecars = np.spec.ingress.find((r) => r.from.some((f) => f.podSelector));
      const callers =
        sidecars?.from[0]?.podSelector?.matchExpressions.find((e) => e.key === "app.kubernetes.io/name")
          ?.values ?? [];
      assert.deepEqual([...callers].sort(), expectedCallers(access, app, actorTypes[app] ?? []), app);
      if (callers.length)
        assert.deepEqual(
          sidecars?.ports.map((p) => p.port),
          [50002],
        );
      const byNamespace = (ns: string) =>
        np.spec.ingress
          .filter((r) =>
            r.from.some((f) => f.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === ns),
          )
          .flatMap((r) => r.ports.map((p) => p.port));
      assert.deepEqual(byNamespace("monitoring"), [9464, 9090], `${app}: monitoring`);
      assert.deepEqual(byNamespace("ingress-nginx"), app === "edge" ? [8080] : [], `${app}: ingress`);
    }
    // ai invokes auth through Dapr; the edge reaches ai's actors.
    assert.ok(expectedCallers(access, "auth", []).includes("ai"));
    assert.ok(expectedCallers(access, "ai", ["LocationInsights"]).includes("edge"));
  });

  test("tokens, ops port and probes: every app's pod", () => {
    for (const [profile, files] of Object.entries(PROFILES)) {
      const docs = render(files);
      for (const app of apps) {
        const d = one<Deployment>(docs, "Deployment", `lsp-${app}`);
        const where = `${profile}: ${app}`;
        const ann = d.spec.template.metadata.annotations;
        assert.equal(ann["dapr.io/api-token-secret"], `lsp-${app}-dapr-api-token`, where);
        assert.equal(ann["dapr.io/app-token-secret"], `lsp-${app}-app-api-token`, where);
        const c = d.spec.template.spec.containers.find((x) => x.name === app);
        const env = new Map((c?.env ?? []).map((e) => [e.name, e]));
        assert.deepEqual(env.get("DAPR_API_TOKEN")?.valueFrom?.secretKeyRef, {
          name: `lsp-${app}-dapr-api-token`,
          key: "token",
        });
        assert.deepEqual(env.get("APP_API_TOKEN")?.valueFrom?.secretKeyRef, {
          name: `lsp-${app}-app-api-token`,
          key: "token",
        });
        assert.equal(env.get("OPS_PORT")?.value, "9464", where);
        // The sidecar client's own allow-list is access.yaml's `invokes` of the app, as written.
        assert.deepEqual(
          JSON.parse(env.get("LSP_ALLOWED_INVOCATIONS")?.value ?? "null"),
          access.apps[app]?.invokes,
          `${where}: LSP_ALLOWED_INVOCATIONS`,
        );
        assert.equal(
          env.get("OPS_HOST")?.value,
          "0.0.0.0",
          `${where}: the ops listener binds the pod's address`,
        );
        assert.ok(
          c?.ports?.some((p) => p.name === "ops" && p.containerPort === 9464),
          where,
        );
        assert.deepEqual(c?.readinessProbe?.httpGet, { path: "/readyz", port: "ops" }, where);
        assert.deepEqual(c?.livenessProbe?.httpGet, { path: "/healthz", port: "http" }, where);
        for (const name of ["AUTH_DEV_SMS_SINK", "DEV_PUSH_SINK"])
          assert.ok(!env.has(name), `${where}: ${name}`);
        if (app === "edge") {
          assert.equal(env.get("EDGE_TRUSTED_PROXY_HOPS")?.value, "1", where);
          assert.equal(
            env.get("NODE_ENV")?.value,
            profile.startsWith("prod") ? "production" : undefined,
            where,
          );
        } else assert.ok(!env.has("EDGE_TRUSTED_PROXY_HOPS"), where);
        const sm = docs.find((x) => x.kind === "ServiceMonitor" && x.metadata.name === `lsp-${app}`);
        if (sm)
          assert.deepEqual(
            (sm.spec as { endpoints: { port: string; path: string }[] }).endpoints.map((e) => [
              e.port,
              e.path,
            ]),
            [["ops", "/metrics"]],
          );
      }
      // No dev sink anywhere: the push and SMS bindings never point back into the mesh.
      for (const s of docs.filter((x) => x.kind === "Secret"))
        for (const v of Object.values(s.stringData ?? {}))
          assert.doesNotMatch(v, /sink/, `${profile}: ${s.metadata.name}`);
    }
  });

  const trustSecretNames = [
    "auth-signing-keys",
    "auth-otp-pepper",
    "edge-export-signing-key",
    ...apps.flatMap((a) => [`lsp-${a}-dapr-api-token`, `lsp-${a}-app-api-token`]),
  ];

  test("trust material: generated in dev (keys that parse as P-256), none in prod (the operator supplies them)", () => {
    const dev = render(PROFILES.dev ?? []);
    const secrets = new Map(dev.filter((d) => d.kind === "Secret").map((d) => [d.metadata.name, d]));
    for (const name of trustSecretNames) {
      const s = secrets.get(name);
      assert.ok(s, `dev: Secret ${name}`);
      assert.equal(s.metadata.annotations?.["helm.sh/resource-policy"], "keep", name);
    }
    const ring = JSON.parse(secrets.get("auth-signing-keys")?.stringData?.["auth-signing-keys"] ?? "") as {
      keys: { kid: string; privateKeyPem: string }[];
    };
    assert.equal(ring.keys.length, 2);
    assert.notEqual(ring.keys[0]?.kid, ring.keys[1]?.kid);
    for (const k of ring.keys) {
      const key = createPrivateKey(k.privateKeyPem);
      assert.equal(key.asymmetricKeyDetails?.namedCurve, "prime256v1");
    }
    assert.ok((secrets.get("auth-otp-pepper")?.stringData?.["auth-otp-pepper"] ?? "").length >= 40);
    const tokens = apps.flatMap((a) =>
      ["dapr", "app"].map((k) => secrets.get(`lsp-${a}-${k}-api-token`)?.stringData?.token ?? ""),
    );
    assert.ok(tokens.every((t) => /^[A-Za-z0-9]{48}$/.test(t)));
    assert.equal(new Set(tokens).size, tokens.length, "every token is its own");
    for (const profile of ["default", "prod", "prod+istio"]) {
      const names = render(PROFILES[profile] ?? [])
        .filter((d) => d.kind === "Secret")
        .map((d) => d.metadata.name);
      assert.deepEqual(
        names.filter((n) => trustSecretNames.includes(n)),
        [],
        `${profile} generates no trust material`,
      );
    }
  });

  test("prod refuses to generate the trust material", () => {
    const res = helmTemplate(tools, PROFILES.prod ?? [], ["--set", "trust.source=generate"]);
    assert.equal(res.ok, false, "prod generated keys and tokens");
    assert.match(res.output, /trust\.source=generate is refused here/);
  });

  test("trust material from values: each one required, by name", () => {
    const missing = helmTemplate(tools, PROFILES.prod ?? [], ["--set", "trust.source=values"]);
    assert.equal(missing.ok, false);
    assert.match(missing.output, /trust\.authSigningKeys is required/);
    const tokens = Object.fromEntries(
      apps.map((a) => [a, { dapr: `d${a}`.padEnd(40, "x"), app: `a${a}`.padEnd(40, "y") }]),
    );
    const partial = { ...tokens, sales: { dapr: "s".repeat(40) } };
    const base = [
      "--set",
      "trust.source=values",
      // --set would read the braces as a list.
      "--set-json",
      `trust.authSigningKeys=${JSON.stringify('{"keys":[]}')}`,
      "--set",
      "trust.authOtpPepper=p",
      "--set",
      "trust.edgeExportSigningKey=k",
    ];
    const noApp = helmTemplate(tools, PROFILES.prod ?? [], [
      ...base,
      "--set-json",
      `trust.apiTokens=${JSON.stringify(partial)}`,
    ]);
    assert.equal(noApp.ok, false);
    assert.match(noApp.output, /trust\.apiTokens\.sales\.app is required/);
    const docs = render(PROFILES.prod ?? [], [
      ...base,
      "--set-json",
      `trust.apiTokens=${JSON.stringify(tokens)}`,
    ]);
    const s = docs.find((d) => d.kind === "Secret" && d.metadata.name === "lsp-edge-app-api-token");
    assert.equal(s?.stringData?.token, tokens.edge?.app);
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
