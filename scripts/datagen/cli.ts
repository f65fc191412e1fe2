// Generates and loads synthetic sales history into a running mesh through the edge.
//   npm run datagen -- --tenant pho-bo-hanoi --locations <id,id> --days 28 --seed 42
//   (default: the demo tenants and their locations, 14 days, against LSP_PORT_BASE's edge)
import { parseArgs } from "node:util";
import { edgeClient } from "../../test/support/graphql-client.js";
import { generateHistory } from "./generate.js";
import { fetchGenLocation, loadHistory, type Gql } from "./load.js";

const DEMO: Record<string, string[]> = {
  "pho-bo-hanoi": ["5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01", "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02"],
  "ca-phe-sai-gon": ["5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b11"],
  "bun-cha-huong-lien": ["5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b21"],
};

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    tenant: { type: "string", multiple: true },
    locations: { type: "string" },
    days: { type: "string", default: "14" },
    seed: { type: "string", default: "42" },
    orders: { type: "string", default: "120" },
    concurrency: { type: "string", default: "8" },
  },
});
const url = values.url ?? `http://localhost:${process.env.LSP_PORT_BASE ?? 4000}/graphql`;
const tenants = values.tenant ?? Object.keys(DEMO);
const t0 = Date.now();
let total = 0;
for (const tenant of tenants) {
  const gql = edgeClient(url, tenant) as Gql;
  const ids = values.locations?.split(",") ?? DEMO[tenant] ?? [];
  const locations = await Promise.all(ids.map((id) => fetchGenLocation(gql, id)));
  const { orders, anomalies } = generateHistory(locations, {
    seed: Number(values.seed),
    days: Number(values.days),
    now: new Date(),
    baseOrdersPerDay: Number(values.orders),
  });
  await loadHistory(gql, orders, {
    concurrency: Number(values.concurrency),
    onProgress: (n) => process.stderr.write(`${tenant}: ${n}/${orders.length}\n`),
  });
  total += orders.length;
  console.log(JSON.stringify({ tenant, locations: ids.length, orders: orders.length, anomalies }));
}
console.log(JSON.stringify({ orders: total, seconds: (Date.now() - t0) / 1000 }));
