// Extracts JSON schemas from CustomResourceDefinition YAML files, in the layout kubeconform reads
// with `-schema-location '<dir>/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'`.
// Strict like the Kubernetes schemas we validate against: an object that lists its properties and
// does not say otherwise refuses unknown ones, so a misspelt field fails CI instead of being
// silently dropped by the API server.
// Usage: node --import tsx tools/k8s/crd-schemas.ts <out dir> <crd file or dir>...
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

type Schema = { [key: string]: unknown };

interface Crd {
  kind?: string;
  spec?: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[];
  };
}

const OBJECT_FIELDS = {
  apiVersion: { type: "string" },
  kind: { type: "string" },
  metadata: { type: "object" },
};

function strict(schema: Schema): Schema {
  const out: Schema = { ...schema };
  const props = out.properties as Record<string, Schema> | undefined;
  if (props) {
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, strict(v)]));
    if (out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"])
      out.additionalProperties = false;
  }
  if (out.items && typeof out.items === "object") out.items = strict(out.items as Schema);
  if (out.additionalProperties && typeof out.additionalProperties === "object")
    out.additionalProperties = strict(out.additionalProperties as Schema);
  return out;
}

function yamlFiles(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(p, f));
}

const [outDir, ...inputs] = process.argv.slice(2);
if (!outDir || inputs.length === 0) {
  console.error("usage: crd-schemas.ts <out dir> <crd file or dir>...");
  process.exit(2);
}
let written = 0;
for (const file of inputs.flatMap(yamlFiles)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const crd = doc.toJS() as Crd | null;
    if (crd?.kind !== "CustomResourceDefinition" || !crd.spec) continue;
    const { group, names, versions } = crd.spec;
    for (const v of versions) {
      const schema = v.schema?.openAPIV3Schema;
      if (!schema) continue;
      const dir = path.join(outDir, group);
      mkdirSync(dir, { recursive: true });
      const target = path.join(dir, `${names.kind.toLowerCase()}_${v.name}.json`);
      // Some CRDs (Istio's) describe only spec and status; every object also has these three.
      const root = { ...schema, properties: { ...OBJECT_FIELDS, ...(schema.properties as object) } };
      writeFileSync(target, JSON.stringify(strict(root), null, 1));
      written++;
    }
  }
}
if (written === 0) {
  console.error(`no CRD schema found in ${inputs.join(", ")}`);
  process.exit(1);
}
console.error(`[k8s-tools] ${written} CRD schemas → ${outDir}`);
