// Writes packages/contracts/schemas/<type>.json from the zod contracts (for the Python service).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { answerJsonSchemas, eventJsonSchemas } from "../src/json-schemas.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");
mkdirSync(dir, { recursive: true });
for (const [type, schema] of Object.entries({ ...eventJsonSchemas(), ...answerJsonSchemas() })) {
  writeFileSync(join(dir, `${type}.json`), JSON.stringify(schema, null, 2) + "\n");
  console.log(`wrote schemas/${type}.json`);
}
