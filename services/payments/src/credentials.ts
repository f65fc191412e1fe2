import type { ZodType } from "zod";
import type { PaymentProvider } from "@lsp/contracts";
import { AppError } from "@lsp/runtime";
import { sidecarFetch, type SidecarPorts } from "@lsp/dapr";
import { MomoCredentials } from "./providers/momo.js";
import { VnpayCredentials } from "./providers/vnpay.js";
import { ZaloPayCredentials } from "./providers/zalopay.js";

/** payments' own secret store: merchant credentials only (components/local/merchant-credentials.yaml). */
export const SECRET_STORE = "merchant-credentials";

/** Secret key of a tenant's merchant credentials: a JSON object, one per provider. */
export function credentialsKey(provider: PaymentProvider, tenantId: string): string {
  return `payments-${provider}-${tenantId}`;
}

const SCHEMAS = { momo: MomoCredentials, zalopay: ZaloPayCredentials, vnpay: VnpayCredentials } as const;
export type CredentialsOf<P extends PaymentProvider> =
  (typeof SCHEMAS)[P] extends ZodType<infer T> ? T : never;

const TTL_MS = 60_000;
const cache = new Map<string, { at: number; value: unknown }>();

/**
 * A tenant's credentials for one provider, from the Dapr secret store (cached for a minute: they
 * rotate rarely and webhooks must answer fast). Null when the tenant has none for this provider.
 */
export async function tenantCredentials<P extends PaymentProvider>(
  ports: SidecarPorts,
  provider: P,
  tenantId: string,
): Promise<CredentialsOf<P> | null> {
  const key = credentialsKey(provider, tenantId);
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value as CredentialsOf<P> | null;
  // In the cluster the credentials live in a namespace of their own, which Dapr's Kubernetes
  // store must be told (it reads the sidecar's namespace otherwise).
  const namespace = process.env.MERCHANT_CREDENTIALS_NAMESPACE;
  const res = await sidecarFetch(
    ports,
    `secrets/${SECRET_STORE}/${encodeURIComponent(key)}${namespace ? `?metadata.namespace=${encodeURIComponent(namespace)}` : ""}`,
    { timeoutMs: 2000 },
    "the merchant credentials store",
  );
  let value: CredentialsOf<P> | null = null;
  if (res.ok) {
    const body = (await res.json()) as Record<string, string | undefined>;
    const raw = body[key];
    const parsed = raw ? SCHEMAS[provider].safeParse(JSON.parse(raw)) : undefined;
    value = parsed?.success ? (parsed.data as CredentialsOf<P>) : null;
  } else if (res.status >= 500 && !(await res.text()).includes("not found")) {
    throw new AppError("UNAVAILABLE", `secret store answered ${res.status}`);
  }
  cache.set(key, { at: Date.now(), value });
  return value;
}
