// Static checks of the Kubernetes delivery (no cluster, no container engine): the tools come from
// tools/k8s/build.sh (setup step), the schemas from registry packages (see that script).
// Used by scripts/validate-k8s.ts (the checks CI runs) and scripts/validate-k8s-write.ts (which
// regenerates the committed files those checks compare against).
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { AccessText } from "./mesh/access.js";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CHART = path.join(REPO, "charts", "lsp");
/** The Kubernetes version the chart is validated against (tools/k8s/build.sh fetches its schemas). */
export const KUBERNETES_VERSION = "1.34.0";
/** The committed example: the default profile, rendered (kept current by a test). */
export const RENDERED = path.join(REPO, "deploy", "rendered", "lsp-default.yaml");
export const DAPR_COPIES = path.join(CHART, "files", "dapr");

/** Values profiles: the chart's defaults and the files layered on them. */
export const PROFILES: Record<string, string[]> = {
  default: [],
  dev: ["values-dev.yaml"],
  prod: ["values-prod.yaml"],
  "prod+istio": ["values-prod.yaml", "values-istio.yaml"],
  "dev, no mesh": ["values-dev.yaml", "values-no-mesh.yaml"],
};

export interface K8sTools {
  helm: string;
  kubeconform: string;
  hadolint: string;
  schemas: string;
}

/** The cached tools, or a clear error saying how to get them. */
export function k8sTools(): K8sTools {
  const res = spawnSync("bash", [path.join(REPO, "tools", "k8s", "build.sh"), "--check"], {
    encoding: "utf8",
  });
  if (res.status !== 0)
    throw new Error(`the Kubernetes tools are not built: run \`npm run setup\`\n${res.stderr}`);
  const dir = res.stdout.trim().split("\n").at(-1) ?? "";
  return {
    helm: path.join(dir, "bin", "helm"),
    kubeconform: path.join(dir, "bin", "kubeconform"),
    hadolint: path.join(dir, "bin", "hadolint"),
    schemas: path.join(dir, "schemas"),
  };
}

export interface RunResult {
  ok: boolean;
  output: string;
}

function run(command: string, args: string[], input?: string): RunResult {
  const res = spawnSync(command, args, { encoding: "utf8", input, cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}` };
}

export function helmLint(tools: K8sTools, valueFiles: string[]): RunResult {
  return run(tools.helm, [
    "lint",
    "--strict",
    CHART,
    "--kube-version",
    KUBERNETES_VERSION,
    ...valueFiles.flatMap((f) => ["-f", path.join(CHART, f)]),
  ]);
}

/** `helm template` of a profile, as the release `lsp` in namespace `lsp` (of charts/lsp, or a copy). */
export function helmTemplate(
  tools: K8sTools,
  valueFiles: string[],
  extra: string[] = [],
  chart = CHART,
): RunResult {
  const res = spawnSync(
    tools.helm,
    [
      "template",
      "lsp",
      chart,
      "--namespace",
      "lsp",
      "--kube-version",
      KUBERNETES_VERSION,
      ...valueFiles.flatMap((f) => ["-f", path.join(chart, f)]),
      ...extra,
    ],
    { encoding: "utf8", cwd: REPO, maxBuffer: 64 * 1024 * 1024 },
  );
  return { ok: res.status === 0, output: res.status === 0 ? res.stdout : res.stderr };
}

/**
 * kubeconform -strict against the Kubernetes schemas and the CRD schemas (Dapr, Prometheus
 * operator, Istio). Several manifests go through one run, so that each schema is compiled once.
 */
export function kubeconform(tools: K8sTools, files: string[]): RunResult {
  return run(tools.kubeconform, [
    "-strict",
    "-summary",
    "-output",
    "text",
    "-kubernetes-version",
    KUBERNETES_VERSION,
    "-schema-location",
    `${tools.schemas}/kubernetes/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    "-schema-location",
    `${tools.schemas}/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
    ...files,
  ]);
}

export function hadolint(tools: K8sTools, dockerfile: string): RunResult {
  return run(tools.hadolint, ["--no-color", dockerfile]);
}

/** The shared Dockerfile of the TypeScript apps (`--build-arg APP=<app>`). */
export const NODE_DOCKERFILE = "services/node.Dockerfile";

/** Every Dockerfile: the TypeScript apps' shared one and each service's own (ai). */
export function dockerfiles(): string[] {
  return [
    NODE_DOCKERFILE,
    ...readdirSync(path.join(REPO, "services")).map((s) => path.join("services", s, "Dockerfile")),
  ].filter((f) => {
    try {
      return readFileSync(path.join(REPO, f)).length > 0;
    } catch {
      return false;
    }
  });
}

type Doc = { apiVersion?: string; kind?: string; metadata?: { name?: string } } & Record<string, unknown>;

export function parseManifest(text: string): Doc[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null && typeof d === "object");
}

const DAPR_KINDS = new Set(["Component", "Configuration", "Resiliency", "Subscription"]);

/** `Kind/name` of every Dapr resource in a manifest. */
export function daprNames(docs: Doc[]): Set<string> {
  return new Set(
    docs
      .filter((d) => d.apiVersion?.startsWith("dapr.io/") && DAPR_KINDS.has(d.kind ?? ""))
      .map((d) => `${d.kind}/${d.metadata?.name}`),
  );
}

/** The Dapr resources the local mesh loads (every .yaml of components/local). */
export function localDaprDocs(): { file: string; docs: Doc[] }[] {
  const dir = path.join(REPO, "components", "local");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => ({ file, docs: parseManifest(readFileSync(path.join(dir, file), "utf8")) }));
}

type Schema = {
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
};

/**
 * Drops what the cluster's API server would drop: fields the CRD schema does not know (the
 * server prunes unknown fields of structural schemas silently). Returns the dropped paths.
 */
function prune(value: unknown, schema: Schema | undefined, at: string, dropped: string[]): void {
  if (!schema || value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => prune(v, schema.items, `${at}[${i}]`, dropped));
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const known = schema.properties?.[key];
    if (known) prune(obj[key], known, `${at}.${key}`, dropped);
    else if (schema.additionalProperties && typeof schema.additionalProperties === "object")
      prune(obj[key], schema.additionalProperties, `${at}.${key}`, dropped);
    else if (schema.additionalProperties === false) {
      dropped.push(`${at}.${key}`);
      delete obj[key];
    }
  }
}

/**
 * The chart's copies of the local Subscriptions and Resiliency policies (files/dapr/<file>):
 * the same resources, minus what the Dapr CRDs would prune in a cluster, each pruned field
 * listed in the file's header so that the difference is visible.
 */
export function daprCopies(tools: K8sTools): Map<string, string> {
  const out = new Map<string, string>();
  for (const { file, docs } of localDaprDocs()) {
    const kept = docs.filter((d) => d.kind === "Subscription" || d.kind === "Resiliency");
    if (kept.length === 0) continue;
    const dropped: string[] = [];
    for (const d of kept) {
      const [group, version] = (d.apiVersion ?? "").split("/");
      const schemaFile = path.join(
        tools.schemas,
        "crds",
        group ?? "",
        `${d.kind?.toLowerCase()}_${version}.json`,
      );
      const schema = JSON.parse(readFileSync(schemaFile, "utf8")) as Schema;
      prune(d, schema, `${d.kind}/${d.metadata?.name}`, dropped);
      d.metadata = { ...d.metadata, labels: { "app.kubernetes.io/part-of": "lsp" } } as Doc["metadata"];
    }
    const header = [
      `# Generated from components/local/${file} by \`npx tsx scripts/validate-k8s-write.ts\`; do not edit.`,
      ...(dropped.length
        ? [
            "# Fields the Dapr CRDs do not define (a cluster's API server would drop them, and Dapr's",
            "# own types ignore them locally too):",
            ...dropped.map((d) => `#   ${d}`),
          ]
        : []),
    ];
    out.set(file, `${header.join("\n")}\n${kept.map((d) => stringify(d, { lineWidth: 0 })).join("---\n")}`);
  }
  return out;
}

/** The dashboards as tools/k8s/dashboards.ts writes them, into a scratch directory. */
export function generateDashboards(outDir: string): void {
  execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(REPO, "tools", "k8s", "dashboards.ts"), outDir],
    {
      cwd: REPO,
      stdio: "pipe",
    },
  );
}

// ---------------------------------------------------------------------------------------------
// components/access.yaml, read independently of the chart: what the rendered Dapr Configurations,
// pub/sub metadata, Roles and NetworkPolicies must say. The chart reads its verbatim copy
// (files/dapr/access.yaml); these checks render the chart and compare.

export const ACCESS_SOURCE = path.join(REPO, "components", "access.yaml");
export const ACCESS_COPY = path.join(DAPR_COPIES, "access.yaml");

export type Access = AccessText;

export function parseAccess(text: string): Access {
  return AccessText.parse(parse(text));
}

export interface AclOperation {
  name: string;
  httpVerb: string[];
  action: string;
}
export interface AclPolicy {
  appId: string;
  defaultAction: string;
  trustDomain: string;
  namespace: string;
  operations: AclOperation[];
}
export interface AccessControl {
  defaultAction: string;
  trustDomain: string;
  policies?: AclPolicy[];
}
export interface SecretScope {
  storeName: string;
  defaultAccess: string;
  allowedSecrets?: string[];
  deniedSecrets?: string[];
}

/** Order-free form of an accessControl: policies by app id, operations by path, verbs sorted. */
export function normalizeAcl(acl: AccessControl | undefined): unknown {
  if (!acl) return undefined;
  return {
    defaultAction: acl.defaultAction,
    trustDomain: acl.trustDomain,
    policies: [...(acl.policies ?? [])]
      .map((p) => ({
        ...p,
        operations: [...p.operations]
          .map((o) => ({ ...o, httpVerb: [...o.httpVerb].sort() }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      }))
      .sort((a, b) => a.appId.localeCompare(b.appId)),
  };
}

/** The callee's sidecar: deny by default; each caller exactly its listed operations (verbs per path). */
export function expectedAccessControl(access: Access, callee: string, namespace: string): AccessControl {
  const policies: AclPolicy[] = [];
  for (const [caller, a] of Object.entries(access.apps)) {
    const ops = a.invokes[callee];
    if (!ops?.length) continue;
    const byPath = new Map<string, string[]>();
    for (const op of ops) {
      const [verb = "", opPath = ""] = op.split(" ");
      byPath.set(opPath, [...(byPath.get(opPath) ?? []), verb]);
    }
    policies.push({
      appId: caller,
      defaultAction: "deny",
      trustDomain: "public",
      namespace,
      operations: [...byPath].map(([name, httpVerb]) => ({ name, httpVerb, action: "allow" })),
    });
  }
  return { defaultAction: "deny", trustDomain: "public", ...(policies.length ? { policies } : {}) };
}

/**
 * The app's secret scopes: its listed keys of the shared store, nothing of Dapr's built-in
 * `kubernetes` store, and the merchant store (which holds nothing else) for the app that has one.
 */
export function expectedSecretScopes(access: Access, app: string): SecretScope[] {
  const a = access.apps[app];
  if (!a) throw new Error(`access.yaml has no app ${app}`);
  return [
    { storeName: "secretstore", defaultAccess: "deny", allowedSecrets: a.secrets },
    { storeName: "kubernetes", defaultAccess: "deny" },
    ...(a.merchantCredentials ? [{ storeName: "merchant-credentials", defaultAccess: "allow" }] : []),
  ];
}

/** "app1=t1,t2;app2=" → app → topics. Throws on a malformed entry. */
export function parseTopicScopes(value: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const entry of value.split(";")) {
    const m = /^([a-z][a-z0-9-]*)=(.*)$/.exec(entry);
    if (!m?.[1]) throw new Error(`malformed topic scope entry "${entry}"`);
    out.set(m[1], m[2] ? m[2].split(",") : []);
  }
  return out;
}

/** The apps whose sidecars reach this app's sidecar: its invokers and the callers of its actor types. */
export function expectedCallers(access: Access, callee: string, actorTypes: string[]): string[] {
  return Object.entries(access.apps)
    .filter(
      ([, a]) => a.invokes[callee] !== undefined || (a.actors ?? []).some((t) => actorTypes.includes(t)),
    )
    .map(([caller]) => caller)
    .sort();
}
