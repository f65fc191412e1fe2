import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { portPlan } from "../../scripts/mesh/ports.js";

/** A tiny GraphQL-over-HTTP client for tests and benchmarks of the edge. */
export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

export type DemoRole = "owner" | "manager" | "staff";

/** Who to log in as: a phone, or the tenant's first demo member with a role (default: owner). */
export interface LoginAs {
  phone?: string;
  role?: DemoRole;
}

/**
 * A client of the edge for one tenant. It logs in by phone OTP on its first call (the code read
 * from the mesh's DEV ONLY SMS sink) as the tenant's demo owner, or as `as` says, and sends the
 * bearer token; a tenant without such a demo member (or none) calls without a token.
 */
export function edgeClient(edgeUrl: string, tenant?: string, as: LoginAs = {}) {
  return async function gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>> {
    return postGraphQL<T>(edgeUrl, await edgeAuthHeaders(edgeUrl, tenant, as), query, variables);
  };
}

/**
 * One GraphQL POST to the edge. Tests check what the services answer now, so they skip the
 * edge's response cache (the cache has its own tests: sales-dashboard, replicas-fanout).
 */
async function postGraphQL<T>(
  edgeUrl: string,
  headers: Record<string, string>,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  const res = await fetch(edgeUrl, {
    method: "POST",
    headers: { "content-type": "application/json", "cache-control": "no-cache", ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/**
 * GraphQL at the edge with an explicit bearer token (none: anonymous) and tenant (none: no
 * X-Tenant), skipping the response cache as every test client does.
 */
export function gqlWithToken<T>(
  edgeUrl: string,
  token: string | undefined,
  tenant: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  return postGraphQL<T>(
    edgeUrl,
    { ...(tenant ? { "x-tenant": tenant } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    query,
    variables,
  );
}

// ---- login for tests (DEV ONLY sink) ----------------------------------------------------------

const DEMO_FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "demo",
  "demo-data.json",
);
const demoMembers = (
  JSON.parse(readFileSync(DEMO_FILE, "utf8")) as {
    tenants: { slug: string; members?: { phone: string; role: DemoRole }[] }[];
  }
).tenants.flatMap((t) => (t.members ?? []).map((m) => ({ ...m, slug: t.slug })));

/** The demo member's phone (E.164) of a tenant with a role, if there is one. */
export function demoPhone(tenant: string, role: DemoRole = "owner"): string | undefined {
  return demoMembers.find((m) => m.slug === tenant && m.role === role)?.phone;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  tenantId: string;
  role: string;
}

/** Where the launcher's DEV ONLY SMS sink listens, from the edge URL of a mesh (ports derive from its base). */
export function smsSinkUrl(edgeUrl: string): string {
  const plan = portPlan(Number(new URL(edgeUrl).port));
  return `http://127.0.0.1:${plan.devSinks}/sms`;
}

/** The newest code texted to `phone` (optionally: sent at or after `since`). */
export async function readSmsCode(edgeUrl: string, phone: string, since = 0): Promise<string | undefined> {
  const res = await fetch(`${smsSinkUrl(edgeUrl)}?to=${encodeURIComponent(phone)}`);
  const messages = (await res.json()) as { text: string; at: string }[];
  const newest = messages.find((m) => Date.parse(m.at) >= since);
  return newest ? /\b(\d{6})\b/.exec(newest.text)?.[1] : undefined;
}

export function authUrl(edgeUrl: string, route: string): string {
  return `${new URL(edgeUrl).origin}/api/v1/auth/${route}`;
}

/** POSTs to the edge's `/api/v1/auth/*` pass-through; returns status and JSON body. */
export async function authPost<T = Record<string, unknown>>(
  edgeUrl: string,
  route: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(authUrl(edgeUrl, route), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

/**
 * The whole OTP login through the edge: request a code, read it from the SMS sink, verify.
 * A code sent moments ago (cool-down) is waited out. `extra` goes into the verify body
 * (joinCode, newTenant).
 */
export async function login(
  edgeUrl: string,
  tenant: string | undefined,
  phone: string,
  extra: Record<string, unknown> = {},
): Promise<Tokens> {
  const headers: Record<string, string> = tenant ? { "x-tenant": tenant } : {};
  for (let attempt = 0; attempt < 3; attempt++) {
    const since = Date.now() - 1000;
    const requested = await authPost<{ error?: { code: string; retryAfterSeconds?: number } }>(
      edgeUrl,
      "otp/request",
      { phone },
      headers,
    );
    if (requested.body.error?.code === "OTP_COOLDOWN") {
      await new Promise((r) => setTimeout(r, ((requested.body.error?.retryAfterSeconds ?? 1) + 0.5) * 1000));
      continue;
    }
    if (requested.status !== 202) throw new Error(`OTP request failed: ${JSON.stringify(requested)}`);
    const code = await readSmsCode(edgeUrl, phone, since);
    if (!code) throw new Error(`no SMS for ${phone} in the sink`);
    const verified = await authPost<Tokens>(edgeUrl, "otp/verify", { phone, code, ...extra }, headers);
    if (verified.status !== 200) throw new Error(`OTP verify failed: ${JSON.stringify(verified)}`);
    return verified.body;
  }
  throw new Error(`could not log in ${phone}`);
}

/**
 * A login whose token is issued after a membership change the caller has just seen answered.
 * Tokens carry their issue time in whole seconds, and those issued up to the change's second are
 * refused as "membership changed": wait until the clock has passed that second, then log in
 * once. (Logging in until a token passes costs an OTP per try, and codes per phone are rate
 * limited: CI ran into that limit.)
 */
export async function loginAfterChange(
  edgeUrl: string,
  tenant: string | undefined,
  phone: string,
  changeAnsweredAt: number = Date.now(),
): Promise<Tokens> {
  const nextSecond = Math.floor(changeAnsweredAt / 1000) * 1000 + 1000;
  const wait = nextSecond + 50 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return login(edgeUrl, tenant, phone);
}

interface Session {
  tokens: Tokens;
  at: number;
}
const sessions = new Map<string, Promise<Session | undefined>>();
const refreshes = new Map<string, Promise<Session>>();
const REFRESH_AFTER_MS = 10 * 60_000;

/**
 * The headers of an authenticated call to the edge as a tenant's demo member (X-Tenant and
 * Authorization), logging in once per edge, tenant and phone and refreshing before expiry.
 */
export async function edgeAuthHeaders(
  edgeUrl: string,
  tenant: string | undefined,
  as: LoginAs = {},
): Promise<Record<string, string>> {
  const headers: Record<string, string> = tenant ? { "x-tenant": tenant } : {};
  const phone = as.phone ?? (tenant ? demoPhone(tenant, as.role) : undefined);
  if (!tenant || !phone) return headers;
  const key = `${new URL(edgeUrl).origin}|${tenant}|${phone}`;
  let session = sessions.get(key);
  if (!session) {
    session = login(edgeUrl, tenant, phone).then(
      (tokens) => ({ tokens, at: Date.now() }),
      () => undefined,
    );
    sessions.set(key, session);
  }
  let current = await session;
  if (current && Date.now() - current.at > REFRESH_AFTER_MS) {
    // One refresh per session at a time: refresh tokens rotate, and a spent one sent again by a
    // concurrent caller is refused as reuse (which revokes the whole session).
    const stale = current;
    let next = refreshes.get(key);
    if (!next) {
      next = authPost<Tokens>(edgeUrl, "refresh", { refreshToken: stale.tokens.refreshToken }, headers)
        .then(
          (refreshed) => (refreshed.status === 200 ? refreshed.body : undefined),
          () => undefined,
        )
        .then((tokens) => {
          if (tokens) return { tokens: { ...stale.tokens, ...tokens }, at: Date.now() };
          sessions.delete(key); // refused: the next call logs in afresh
          return stale;
        })
        .finally(() => refreshes.delete(key));
      refreshes.set(key, next);
      sessions.set(key, next);
    }
    current = await next;
  }
  if (!current) sessions.delete(key); // unknown tenant or phone: try again next time
  return current ? { ...headers, authorization: `Bearer ${current.tokens.accessToken}` } : headers;
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
    /** The second branch (the demo staff member is not listed there). */
    cauGiay: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02",
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
