// Benchmarks of identity (issue 3). Starts its own mesh (OTP rate limits raised for the run) and
// prints:
//  - OTP verify → tokens: throughput and p50/p99 of first logins (a join code makes each new
//    phone a staff member), N phones at concurrency C;
//  - the edge's JWT verification (ES256 signature, claims) per request, in-process with the
//    edge's own code and auth's live JWKS;
//  - p50/p99 of a trivial query ({ __typename }) at the edge with a bearer token against the same
//    query without one, interleaved in the same run: their difference is the auth overhead.
// Usage: npx tsx bench/auth.ts [--logins 200] [--queries 2000] [--concurrency 8] [--port-base 5000]
import { randomUUID } from "node:crypto";
import { startMesh } from "../scripts/mesh/mesh.js";
import { JwksCache, accessTokenVerifier } from "@lsp/identity";
import {
  DEMO,
  authPost,
  edgeAuthHeaders,
  edgeClient,
  readSmsCode,
  type Tokens,
} from "../test/support/graphql-client.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const logins = arg("logins", 200);
const queries = arg("queries", 2000);
const concurrency = arg("concurrency", 8);
const base = arg("port-base", Number(process.env.LSP_BENCH_PORT_BASE ?? 5000));
const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

/** Runs `work(i)` for i in 0..n-1 with `c` in flight; returns each call's latency (ms). */
async function pool(n: number, c: number, work: (i: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t = performance.now();
        await work(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return latencies;
}

// The bench asks for many codes from one address; production limits would stop it (by design).
process.env.AUTH_OTP_IP_LIMIT = "1000000";
process.env.AUTH_VERIFY_IP_LIMIT = "1000000";
process.env.AUTH_OTP_PHONE_LIMIT = "1000";
// Nor may the edge's per-caller GraphQL rate limit cut the query phase short.
process.env.EDGE_RATE_LIMIT_MAX = "1000000";
const mesh = await startMesh({
  portBase: base,
  name: `bench-auth-${base}`,
  fresh: true,
  demoData: true,
  logLevel: "warn",
  onProgress: say,
});
try {
  const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const joined = await owner<{ createJoinCode: { code: string } }>(
    `mutation { createJoinCode(input: { role: STAFF, locationIds: ["${DEMO.phoBo.hoanKiem}"] }) { code } }`,
  );
  const joinCode = joined.data?.createJoinCode.code;
  if (!joinCode) throw new Error(`no join code: ${JSON.stringify(joined)}`);
  const tenant = { "x-tenant": DEMO.phoBo.slug };

  // 1. OTP verify → tokens. Codes are requested and read first (not timed).
  const phones = Array.from({ length: logins }, (_, i) => `+8497${String(i).padStart(7, "0")}`);
  say(`requesting ${logins} codes…`);
  const codes: string[] = [];
  await pool(logins, concurrency, async (i) => {
    const phone = phones[i] ?? "";
    const r = await authPost(mesh.edgeUrl, "otp/request", { phone }, tenant);
    if (r.status !== 202) throw new Error(`otp request ${phone}: ${JSON.stringify(r)}`);
    codes[i] = (await readSmsCode(mesh.edgeUrl, phone)) ?? "";
  });
  say(`verifying ${logins} codes at concurrency ${concurrency}…`);
  const tokens: Tokens[] = [];
  const t1 = performance.now();
  const verifyLatencies = await pool(logins, concurrency, async (i) => {
    const r = await authPost<Tokens>(
      mesh.edgeUrl,
      "otp/verify",
      { phone: phones[i], code: codes[i], joinCode },
      tenant,
    );
    if (r.status !== 200) throw new Error(`verify: ${JSON.stringify(r)}`);
    tokens[i] = r.body;
  });
  const verifySeconds = (performance.now() - t1) / 1000;

  // 2. JWT verification, in-process (@lsp/identity's verifier, auth's live JWKS as the edge serves
  // it), with a one-entry token cache so that every call checks a signature.
  const edgeBase = mesh.edgeUrl.replace(/\/graphql$/, "");
  const jwks = new JwksCache({ DAPR_HTTP_PORT: 1, DAPR_GRPC_PORT: 1 }, async () =>
    (await fetch(`${edgeBase}/.well-known/jwks.json`)).json(),
  );
  const verifyAccessToken = (_keys: JwksCache, t: string) => verify(t);
  const verify = accessTokenVerifier(jwks, 1);
  const token = tokens[0]?.accessToken ?? "";
  await verifyAccessToken(jwks, token); // warm the key cache
  const verifications = 20_000;
  const t2 = performance.now();
  for (let i = 0; i < verifications; i++)
    await verifyAccessToken(jwks, tokens[i % tokens.length]?.accessToken ?? token);
  const perVerifyUs = ((performance.now() - t2) * 1000) / verifications;

  // 3. Authenticated vs unauthenticated trivial query, interleaved.
  const authed = await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
  // A kept-alive connection the server closes at the same moment fails once; such a call is
  // retried and counted (printed), never hidden.
  let retried = 0;
  const call = async (headers: Record<string, string>): Promise<void> => {
    try {
      await callOnce(headers);
    } catch {
      retried++;
      await callOnce(headers);
    }
  };
  const callOnce = async (headers: Record<string, string>) => {
    const res = await fetch(mesh.edgeUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    const body = (await res.json()) as { data?: { __typename?: string } };
    if (body.data?.__typename !== "Query") throw new Error(`trivial query failed: ${JSON.stringify(body)}`);
  };
  say(`warming up, then ${queries} trivial queries each way…`);
  await pool(200, concurrency, (i) => call(i % 2 ? authed : tenant));
  const withToken: number[] = [];
  const without: number[] = [];
  await pool(queries * 2, concurrency, async (i) => {
    const t = performance.now();
    await call(i % 2 ? authed : tenant);
    (i % 2 ? withToken : without).push(performance.now() - t);
  });

  const line = (name: string, values: number[]) =>
    `${name.padEnd(34)} p50 ${fmt(pct(values, 50)).padStart(9)}  p99 ${fmt(pct(values, 99)).padStart(9)}  (n=${values.length})`;
  console.log(`\nidentity benchmarks (mesh at port base ${base}, run ${randomUUID().slice(0, 8)})`);
  console.log(
    `OTP verify → tokens (first login)   ${(logins / verifySeconds).toFixed(1)} logins/s at concurrency ${concurrency}`,
  );
  console.log(line("  verify latency", verifyLatencies));
  console.log(
    `edge JWT verification (ES256)        ${perVerifyUs.toFixed(1)} µs per request (n=${verifications}, in-process)`,
  );
  console.log(line("{ __typename } without token", without));
  console.log(line("{ __typename } with bearer token", withToken));
  console.log(`calls retried after a closed connection: ${retried}`);
  console.log(
    `auth overhead (with/without)         p50 ×${(pct(withToken, 50) / pct(without, 50)).toFixed(2)}  p99 ×${(pct(withToken, 99) / pct(without, 99)).toFixed(2)}`,
  );
} finally {
  await mesh.stop();
}
