import type { Identity } from "@lsp/service-kit";

export interface EdgeContext {
  /** The caller's identity; throws UNAUTHENTICATED when the request has none. */
  identity: () => Identity;
}
