// Generates and loads synthetic sales history into a running mesh through the edge.
//   npm run datagen -- --tenant pho-bo-hanoi --locations <id,id> --days 28 --seed 42
//   npm run datagen -- --new-tenants 5 --locations-per-tenant 3 --days 120 --seed 7
//   (default: the demo tenants and their locations, 14 days, against LSP_PORT_BASE's edge)
// New tenants are onboarded like real owners (OTP login through the DEV ONLY SMS sink); auth
// allows 30 codes per client address per 10 minutes (AUTH_OTP_IP_LIMIT), so create at most ~25
// at a time.
import { parseArgs } from "node:util";
import { edgeClient } from "../../test/support/graphql-client.js";
import { generateHistory } from "./generate.js";
import { fetchGenLocation, loadHistory, type Gql } from "./load.js";
import { createGenTenant } from "./tenants.js";

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
    "new-tenants": { type: "string" },
    "locations-per-tenant": { type: "string", default: "2" },
    days: { type: "string", default: "14" },
    seed: { type: "string", default: "42" },
    orders: { type: "string", default: "120" },
    concurrency: { type: "string", default: "8" },
  },
});
const count = (name: string, v: string | undefined, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`--${name} must be a whole number from 1 to ${max} (got ${v})`);
    process.exit(2);
  }
  return n;
};
const url = values.url ?? `http://localhost:${process.env.LSP_PORT_BASE ?? 4000}/graphql`;
const seed = Number(values.seed);
const days = count("days", values.days, 3660);

/** The restaurants to fill: new ones onboarded through the API, or existing (demo) tenants. */
async function targets(): Promise<{ slug: string; gql: Gql; locationIds: string[] }[]> {
  if (values["new-tenants"] !== undefined) {
    const n = count("new-tenants", values["new-tenants"], 25);
    const perTenant = count("locations-per-tenant", values["locations-per-tenant"], 50);
    const out = [];
    for (let index = 1; index <= n; index++) {
      out.push(await createGenTenant(url, { seed, index, locations: perTenant }));
      process.stderr.write(`created tenant ${index}/${n} (${perTenant} locations, menu)\n`);
    }
    return out;
  }
  return (values.tenant ?? Object.keys(DEMO)).map((slug) => ({
    slug,
    gql: edgeClient(url, slug) as Gql,
    locationIds: values.locations?.split(",") ?? DEMO[slug] ?? [],
  }));
}

async function main(): Promise<void> {
  const t0 = Date.now();
  let total = 0;
  for (const [i, { slug, gql, locationIds }] of (await targets()).entries()) {
    const locations = await Promise.all(locationIds.map((id) => fetchGenLocation(gql, id)));
    const { orders, anomalies } = generateHistory(locations, {
      seed: seed + i,
      days,
      now: new Date(),
      baseOrdersPerDay: Number(values.orders),
    });
    await loadHistory(gql, orders, {
      concurrency: Number(values.concurrency),
      onProgress: (n) => process.stderr.write(`${slug}: ${n}/${orders.length}\n`),
    });
    total += orders.length;
    console.log(
      JSON.stringify({ tenant: slug, locations: locationIds.length, orders: orders.length, anomalies }),
    );
  }
  console.log(JSON.stringify({ orders: total, seconds: (Date.now() - t0) / 1000 }));
}

main().catch((err: unknown) => {
  console.error(`datagen: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
