import type { PortPlan } from "./ports.js";

/**
 * The development secret store's contents (written to .lsp/<run>/secrets.json and served by the
 * `secretstore` component). DEVELOPMENT ONLY: trust-auth local databases, throwaway keys and the
 * providers' public sandbox credentials. Each service adds its own keys in its own block.
 */
export function devSecrets(plan: PortPlan, _runDir: string): Record<string, string> {
  return {
    // ai: the actor state store (PostgreSQL v2) connects as the ai role, inside the ai schema.
    "actorstate-connection-string": `host=127.0.0.1 port=${plan.postgres} user=svc_ai dbname=lsp search_path=ai sslmode=disable`,
  };
}
