import type { Identity } from "@lsp/identity";

export interface EdgeContext {
  /** The caller's identity; throws UNAUTHENTICATED (or the token's failure) when there is none. */
  identity: () => Identity;
  /** Headers that carry the same caller to a service: the user's own access token. */
  forward: () => Record<string, string>;
}
