// The identity suite's mesh and helpers (test/e2e/auth.test.ts runs its scenario files in
// test/e2e/auth/ against one mesh): logins by phone OTP through the edge, GraphQL with an explicit
// token, and the demo tenants' fixed ids.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { serviceDatabaseUrl } from "../../scripts/mesh/infra.js";
import { startTestMesh } from "./mesh.js";
import { authPost, gqlWithToken, readSmsCode, type GraphQLResponse, type Tokens } from "./graphql-client.js";

export const TENANT_IDS = {
  phoBo: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01",
  caPhe: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02",
  bunCha: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a03",
};
/** The suite's OTP lifetime: short, so that the expiry scenario can wait it out. */
export const OTP_TTL_SECONDS = 5;

/** A fresh, valid Vietnamese mobile number (VinaPhone 094x), different on every call. */
let phoneSeq = 0;
export const freshPhone = () =>
  `+8494${String(Date.now() % 10_000).padStart(4, "0")}${String(phoneSeq++).padStart(3, "0")}`;

export const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code;
export const ME = `{ me { user { id phone } role locations { id } } }`;
export type Me = { me: { user: { id: string; phone: string }; role: string; locations: { id: string }[] } };

/** What every identity scenario uses; the fields are set by the suite's `before`. */
export interface AuthMesh {
  mesh: Mesh;
  /** auth's database as the service's own role. */
  authDb: pg.Pool;
  /** GraphQL at the edge with an explicit token (and tenant). */
  gqlAs: <T>(
    token: string | undefined,
    tenant: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ) => Promise<GraphQLResponse<T>>;
  /** Requests a code (from client address `ip`) and returns it as read from the SMS sink. */
  sendCode: (phone: string, tenant: string | undefined, ip: string) => Promise<string>;
  verify: (
    body: Record<string, unknown>,
    tenant?: string,
  ) => ReturnType<typeof authPost<Tokens & { error?: { code: string; attemptsLeft?: number } }>>;
  /** The run's DEV ONLY signing keys (the mesh wrote them). */
  devKeys: () => { keys: { kid: string; privateKeyPem: string }[] };
}

/** Starts the suite's mesh in a `before` of the calling describe, and stops it after. */
export function useAuthMesh(): AuthMesh {
  const h = {} as AuthMesh;
  before(async () => {
    // Short OTP lifetime (the expiry scenario waits it out); the edge trusts X-Forwarded-For from
    // loopback so that tests can act as several client addresses.
    process.env.AUTH_OTP_TTL_SECONDS = String(OTP_TTL_SECONDS);
    process.env.EDGE_TRUSTED_PROXY_HOPS = "1";
    const mesh = await startTestMesh();
    Object.assign(h, {
      mesh,
      authDb: new pg.Pool({ connectionString: serviceDatabaseUrl(mesh.plan.postgres, "auth"), max: 2 }),
      gqlAs: <T>(
        token: string | undefined,
        tenant: string | undefined,
        query: string,
        variables?: Record<string, unknown>,
      ) => gqlWithToken<T>(mesh.edgeUrl, token, tenant, query, variables),
      async sendCode(phone: string, tenant: string | undefined, ip: string): Promise<string> {
        const since = Date.now() - 1000;
        const r = await authPost(
          mesh.edgeUrl,
          "otp/request",
          { phone },
          { ...(tenant ? { "x-tenant": tenant } : {}), "x-forwarded-for": ip },
        );
        assert.equal(r.status, 202, JSON.stringify(r.body));
        const code = await readSmsCode(mesh.edgeUrl, phone, since);
        assert.ok(code, "the SMS reached the sink");
        return code;
      },
      verify: (body: Record<string, unknown>, tenant?: string) =>
        authPost<Tokens & { error?: { code: string; attemptsLeft?: number } }>(
          mesh.edgeUrl,
          "otp/verify",
          body,
          tenant ? { "x-tenant": tenant } : {},
        ),
      devKeys: () =>
        JSON.parse(readFileSync(path.join(mesh.runDir, "auth-dev-keys.json"), "utf8")) as {
          keys: { kid: string; privateKeyPem: string }[];
        },
    } satisfies AuthMesh);
  });
  after(async () => {
    await h.authDb?.end();
    await h.mesh?.stop();
  });
  return h;
}
