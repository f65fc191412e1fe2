// New synthetic restaurants for the generator, created the way a real owner does it, through the
// edge's public API only: OTP login with `newTenant` (restaurant + first location), then
// `createLocation` for the other branches and `upsertMenuItem` for the menu.
import { authPost, login, type GraphQLResponse, type Tokens } from "../../test/support/graphql-client.js";
import { rng } from "./generate.js";
import type { Gql } from "./load.js";

/** A café-and-noodle menu (VND; cost ≈ 30–45 % of price), enough for menu engineering. */
const MENU = [
  { category: "Phở", name: "Phở bò tái", priceVnd: 55_000, costVnd: 21_000 },
  { category: "Phở", name: "Phở gà", priceVnd: 50_000, costVnd: 18_000 },
  { category: "Bún", name: "Bún chả", priceVnd: 50_000, costVnd: 19_000 },
  { category: "Bún", name: "Bún bò Huế", priceVnd: 55_000, costVnd: 22_000 },
  { category: "Cơm", name: "Cơm tấm sườn", priceVnd: 45_000, costVnd: 17_000 },
  { category: "Bánh mì", name: "Bánh mì thịt", priceVnd: 25_000, costVnd: 9_000 },
  { category: "Khai vị", name: "Nem rán", priceVnd: 40_000, costVnd: 14_000 },
  { category: "Khai vị", name: "Gỏi cuốn", priceVnd: 35_000, costVnd: 11_000 },
  { category: "Đồ uống", name: "Cà phê sữa đá", priceVnd: 29_000, costVnd: 8_000 },
  { category: "Đồ uống", name: "Trà đá", priceVnd: 5_000, costVnd: 1_000 },
  { category: "Đồ uống", name: "Nước mía", priceVnd: 15_000, costVnd: 5_000 },
  { category: "Đồ uống", name: "Sinh tố bơ", priceVnd: 35_000, costVnd: 15_000 },
];
const BRANCHES = [
  "Hoàn Kiếm",
  "Ba Đình",
  "Cầu Giấy",
  "Quận 1",
  "Quận 3",
  "Bình Thạnh",
  "Hải Châu",
  "Ninh Kiều",
];

export interface GenTenant {
  slug: string;
  gql: Gql;
  locationIds: string[];
}

/** A GraphQL client of the edge with a tenant owner's tokens, refreshed before they expire. */
function ownerClient(edgeUrl: string, slug: string, first: Tokens): Gql {
  let tokens = first;
  let issuedAt = Date.now();
  return async function gql<T>(query: string, variables?: Record<string, unknown>) {
    if (Date.now() - issuedAt > 10 * 60_000) {
      const refreshed = await authPost<Tokens>(
        edgeUrl,
        "refresh",
        { refreshToken: tokens.refreshToken },
        { "x-tenant": slug },
      );
      if (refreshed.status !== 200)
        throw new Error(`refresh for ${slug} failed: ${JSON.stringify(refreshed.body)}`);
      tokens = refreshed.body;
      issuedAt = Date.now();
    }
    const res = await fetch(edgeUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-tenant": slug,
        authorization: `Bearer ${tokens.accessToken}`,
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    return (await res.json()) as GraphQLResponse<T>;
  };
}

async function must<T>(
  gql: Gql,
  what: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const res = await gql<T>(query, variables);
  if (!res.data || res.errors?.length) throw new Error(`${what}: ${JSON.stringify(res.errors)}`);
  return res.data;
}

/**
 * Creates restaurant `index` of a seeded batch: slug `gen-<seed>-<index>`, owner phone derived
 * from the seed (a Vietnamese mobile), `locations` branches and the standard menu.
 */
export async function createGenTenant(
  edgeUrl: string,
  opts: { seed: number; index: number; locations: number },
): Promise<GenTenant> {
  const random = rng(opts.seed * 1000 + opts.index);
  const slug = `gen-${opts.seed}-${opts.index}`;
  const phone = `+8490${String(Math.floor(random() * 10_000_000)).padStart(7, "0")}`;
  const tokens = await login(edgeUrl, undefined, phone, {
    newTenant: { slug, name: `Quán ${slug}`, locationName: BRANCHES[0] },
  }).catch((err: unknown) => {
    throw new Error(
      `creating ${slug} (owner ${phone}) failed — a seed already used on this mesh? ${String(err)}`,
    );
  });
  const gql = ownerClient(edgeUrl, slug, tokens);
  for (let b = 1; b < opts.locations; b++)
    await must(
      gql,
      `createLocation ${slug}`,
      `mutation ($input: LocationInput!) { createLocation(input: $input) { id } }`,
      {
        input: { name: BRANCHES[b % BRANCHES.length] + (b >= BRANCHES.length ? ` ${b}` : "") },
      },
    );
  for (const [i, item] of MENU.entries())
    await must(
      gql,
      `upsertMenuItem ${item.name}`,
      `mutation ($input: UpsertMenuItemInput!) { upsertMenuItem(input: $input) { id } }`,
      { input: { ...item, idempotencyKey: `${slug}-menu-${i}` } },
    );
  const { locations } = await must<{ locations: { id: string }[] }>(
    gql,
    "locations",
    "query { locations { id } }",
  );
  return { slug, gql, locationIds: locations.map((l) => l.id) };
}
