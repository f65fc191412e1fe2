import { LRUCache } from "lru-cache";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { invokeService, type SidecarPorts } from "@lsp/dapr";

const Tenant = z.object({ id: z.uuid(), slug: z.string(), name: z.string() });
export type Tenant = z.infer<typeof Tenant>;

const SLUG = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The tenant slug of a request: the first label of the Host (`pho-bo-hanoi.localhost`,
 * `pho-bo-hanoi.lsp.vn`) or, for tools and tests, the `X-Tenant` header.
 */
export function tenantSlugOf(host: string | null, xTenant: string | null): string | null {
  if (xTenant) return xTenant.trim().toLowerCase();
  const hostname = (host ?? "").split(":")[0]?.toLowerCase() ?? "";
  const labels = hostname.split(".");
  if (labels.length < 2 || /^\d+$/.test(labels[labels.length - 1] ?? "")) return null; // bare host or IP
  const first = labels[0] ?? "";
  return first === "www" || first === "localhost" ? null : first;
}

const TTL_MS = 60_000;
/** Unknown slugs are remembered too: a client guessing names costs auth one lookup per slug. */
const NEGATIVE_TTL_MS = 30_000;

type Entry = { tenant: Tenant } | { missing: true };
const cache = new LRUCache<string, Entry, SidecarPorts>({
  max: 10_000,
  ttl: TTL_MS,
  // auth restarting must not turn every request into an error: the last answer keeps serving.
  allowStaleOnFetchRejection: true,
  noDeleteOnFetchRejection: true,
  fetchMethod: async (slug, _stale, { options, context: ports }) => {
    const res = await invokeService(ports, "auth", `v1/tenants/by-slug/${slug}`);
    if (!res.ok) throw new AppError("UNAVAILABLE", `tenant lookup failed (${res.status})`);
    // auth answers `null` for an unknown slug (a 200, so that guesses never open a breaker).
    const body: unknown = await res.json();
    if (body === null) {
      options.ttl = NEGATIVE_TTL_MS;
      return { missing: true };
    }
    return { tenant: Tenant.parse(body) };
  },
});

/** Resolves a slug to its tenant through auth (Dapr invocation), cached (negatives too). */
export async function resolveTenant(ports: SidecarPorts, slug: string): Promise<Tenant> {
  if (!SLUG.test(slug)) throw new AppError("BAD_USER_INPUT", `invalid tenant "${slug.slice(0, 64)}"`);
  const entry = await cache.fetch(slug, { context: ports });
  // No entry: auth could not answer and nothing was cached (allowStaleOnFetchRejection makes
  // fetch resolve undefined rather than throw). That is auth's outage, not an unknown tenant.
  if (!entry) throw new AppError("UNAVAILABLE", `cannot look up tenant "${slug}" now: auth does not answer`);
  if ("missing" in entry) throw new AppError("NOT_FOUND", `unknown tenant "${slug}"`);
  return entry.tenant;
}
