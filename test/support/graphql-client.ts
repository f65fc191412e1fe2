/** A tiny GraphQL-over-HTTP client for tests and benchmarks of the edge. */
export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

export function edgeClient(edgeUrl: string, tenant?: string) {
  return async function gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>> {
    const res = await fetch(edgeUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...(tenant ? { "x-tenant": tenant } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(15_000),
    });
    return (await res.json()) as GraphQLResponse<T>;
  };
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not reached within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const DEMO = {
  phoBo: {
    slug: "pho-bo-hanoi",
    hoanKiem: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01",
    phoTai: "c1a0b2c3-d4e5-4f60-8a7b-000000000101",
    traDa: "c1a0b2c3-d4e5-4f60-8a7b-000000000103",
  },
  caPhe: {
    slug: "ca-phe-sai-gon",
    quan1: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b11",
    caPheSuaDa: "c1a0b2c3-d4e5-4f60-8a7b-000000000201",
  },
} as const;

export const CREATE_ORDER = /* GraphQL */ `
  mutation ($input: CreateOrderInput!) {
    createOrder(input: $input) {
      id
      totalVnd
      businessDay
      status
      lines {
        name
        quantity
        unitPriceVnd
      }
    }
  }
`;

export const LOCATION_TODAY = /* GraphQL */ `
  query ($id: ID!) {
    location(id: $id) {
      id
      name
      todayRevenue
      todayOrders
      insights {
        ordersSeen
        revenueVnd
      }
    }
  }
`;
