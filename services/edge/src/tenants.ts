import { z } from "zod";
import { AppError, invokeService, type SidecarPorts } from "@lsp/service-kit";

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
const cache = new Map<string, { at: number; tenant: Tenant }>();

/** Resolves a slug to its tenant through auth (Dapr invocation), cached for a minute. */
export async function resolveTenant(ports: SidecarPorts, slug: string): Promise<Tenant> {
  if (!SLUG.test(slug)) throw new AppError("BAD_USER_INPUT", `invalid tenant "${slug}"`);
  const hit = cache.get(slug);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.tenant;
  const res = await invokeService(ports, "auth", `v1/tenants/by-slug/${slug}`);
  if (res.status === 404) throw new AppError("NOT_FOUND", `unknown tenant "${slug}"`);
  if (!res.ok) throw new AppError("UNAVAILABLE", `tenant lookup failed (${res.status})`);
  const tenant = Tenant.parse(await res.json());
  cache.set(slug, { at: Date.now(), tenant });
  return tenant;
}
