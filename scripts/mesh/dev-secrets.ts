import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { PortPlan } from "./ports.js";

/**
 * The development secret store's contents (written to .lsp/<run>/secrets.json and served by the
 * `secretstore` component). DEVELOPMENT ONLY: trust-auth local databases, throwaway keys and
 * URLs. Each service adds its own keys in its own block; which app may read which key through the
 * secrets API is components/access.yaml's to say (components' own references are resolved by
 * the one sidecar that loads the component).
 */
export function devSecrets(plan: PortPlan, runDir: string): Record<string, string> {
  return {
    ...authDevSecrets(plan, runDir),
    // ai: the actor state store (PostgreSQL v2) connects as the ai schema's owner role, since
    // Dapr creates and migrates its own tables there (they hold actor state, no tenant column).
    "actorstate-connection-string": `host=127.0.0.1 port=${plan.postgres} user=own_ai dbname=lsp search_path=ai sslmode=disable`,
    // notifications: the push binding's target, the launcher's DEV ONLY sink (FCM in the cluster).
    "notifications-push-url": `http://127.0.0.1:${plan.devSinks}/push`,
    // payments: where reconciliation asks each provider about a payment; the sandboxes, unless a
    // test runs a fake provider server (LSP_PAYMENT_PROVIDERS_URL).
    ...providerQueryUrls(process.env.LSP_PAYMENT_PROVIDERS_URL),
  };
}

/**
 * payments' own store (`merchant-credentials`, loaded by payments' sidecar alone): the per-tenant
 * merchant credentials and nothing else (.lsp/<run>/merchant-credentials.json).
 */
export function merchantSecrets(): Record<string, string> {
  return {
    // payments: per-tenant merchant credentials of the demo tenants (DEV ONLY). Phở Bò uses the
    // providers' public sandbox credentials; Cà Phê has throwaway keys of its own, so that a
    // webhook signed with one tenant's keys never verifies for the other.
    ...paymentCredentials("7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01", {
      momo: {
        partnerCode: "MOMO",
        accessKey: "F8BBA842ECF85",
        secretKey: "K951B6PE1waDMi640xX08PD3vg6EkVlz",
      },
      zalopay: {
        appId: 2553,
        key1: "PcY4iZIKFCIdgZvA6ueMcMHHUbRLYjPL",
        key2: "kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz",
      },
      vnpay: { tmnCode: "LSPDEV01", hashSecret: "DEVONLY-vnpay-secret-pho-bo-hanoi" },
    }),
    ...paymentCredentials("7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02", {
      momo: {
        partnerCode: "MOMODEV02",
        accessKey: "DEVONLYaccess02",
        secretKey: "DEVONLY-momo-secret-ca-phe-sai-gon",
      },
      zalopay: { appId: 9902, key1: "DEVONLY-zalopay-key1-ca-phe", key2: "DEVONLY-zalopay-key2-ca-phe" },
      vnpay: { tmnCode: "LSPDEV02", hashSecret: "DEVONLY-vnpay-secret-ca-phe-sai-gon" },
    }),
  };
}

/** payments: one secret per tenant and provider, `payments-<provider>-<tenantId>` → JSON. */
function paymentCredentials(tenantId: string, byProvider: Record<string, object>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(byProvider).map(([provider, creds]) => [
      `payments-${provider}-${tenantId}`,
      JSON.stringify(creds),
    ]),
  );
}

function providerQueryUrls(fake: string | undefined): Record<string, string> {
  return {
    "payments-momo-query-url": fake ? `${fake}/momo` : "https://test-payment.momo.vn",
    "payments-zalopay-query-url": fake ? `${fake}/zalopay` : "https://sb-openapi.zalopay.vn",
    "payments-vnpay-query-url": fake ? `${fake}/vnpay` : "https://sandbox.vnpayment.vn",
  };
}

/**
 * auth (DEV ONLY): two ES256 signing keys (the first active, the second ready for a rotation) and
 * the OTP pepper, generated on the first start of a run directory and kept there, so that tokens
 * survive a restart of `npm start`; nothing private is committed. The SMS binding delivers to
 * the launcher's DEV ONLY sink (scripts/mesh/dev-sinks.ts), which no app can read.
 */
function authDevSecrets(plan: PortPlan, runDir: string): Record<string, string> {
  const file = path.join(runDir, "auth-dev-keys.json");
  if (!existsSync(file)) {
    const key = (kid: string) => ({
      kid,
      privateKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" })
        .privateKey.export({ format: "pem", type: "pkcs8" })
        .toString(),
    });
    const stamp = new Date().toISOString().slice(0, 10);
    const generated = {
      keys: [key(`dev-${stamp}-a`), key(`dev-${stamp}-b`)],
      pepper: randomBytes(32).toString("base64url"),
    };
    writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
  }
  const dev = JSON.parse(readFileSync(file, "utf8")) as { keys: unknown[]; pepper: string };
  return {
    "auth-signing-keys": JSON.stringify({ keys: dev.keys }),
    "auth-otp-pepper": dev.pepper,
    "auth-sms-url": `http://127.0.0.1:${plan.devSinks}/sms`,
  };
}
