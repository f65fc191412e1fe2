import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { z } from "zod";

export const TrustedDocumentsConfig = z.object({
  /**
   * The operations our own clients were built with: a JSON object `{ "<sha256 of the document>":
   * "<document>" }`, produced by the client build. Clients send the hash
   * (`extensions.persistedQuery.sha256Hash` or `documentId`) instead of the text.
   */
  EDGE_TRUSTED_DOCUMENTS_FILE: z.string().optional(),
  /** Production: only those operations execute; any other document is refused. */
  EDGE_TRUSTED_DOCUMENTS_ONLY: z.stringbool().default(false),
});
export type TrustedDocumentsConfig = z.infer<typeof TrustedDocumentsConfig>;

const Manifest = z.record(z.string().regex(/^[a-f0-9]{64}$/), z.string().min(1).max(100_000));

/** Reads a manifest, refusing one whose keys are not the SHA-256 of their documents. */
export function loadTrustedDocuments(file: string): Map<string, string> {
  const manifest = Manifest.parse(JSON.parse(readFileSync(file, "utf8")));
  for (const [hash, document] of Object.entries(manifest)) {
    const actual = createHash("sha256").update(document).digest("hex");
    if (actual !== hash) throw new Error(`trusted documents: ${hash} is not the hash of its document`);
  }
  return new Map(Object.entries(manifest));
}

/**
 * The operation a graphql-ws `subscribe` payload names: its text, or a typed refusal. `tenantId`
 * is the socket's tenant (the per-tenant trusted-documents flag applies to it).
 */
export type DocumentResolver = (
  payload: {
    query?: string;
    extensions?: Record<string, unknown> | null;
  },
  tenantId?: string,
) => string | GraphQLError;

/**
 * The same rules as the HTTP plugin, for operations that arrive over a WebSocket.
 * `trustedOnlyFor`: the feature flag `edge.trusted_documents`, trusted-only mode per tenant.
 */
export function documentResolver(
  cfg: TrustedDocumentsConfig,
  trustedOnlyFor: (tenantId: string) => boolean = () => false,
): DocumentResolver {
  const documents = cfg.EDGE_TRUSTED_DOCUMENTS_FILE
    ? loadTrustedDocuments(cfg.EDGE_TRUSTED_DOCUMENTS_FILE)
    : new Map<string, string>();
  return (payload, tenantId) => {
    const persisted = payload.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined;
    const hash = typeof persisted?.sha256Hash === "string" ? persisted.sha256Hash : undefined;
    if (hash) {
      const document = documents.get(hash);
      return (
        document ??
        new GraphQLError("unknown operation: not one of this edge's trusted documents", {
          extensions: { code: "PERSISTED_QUERY_NOT_FOUND" },
        })
      );
    }
    if (
      cfg.EDGE_TRUSTED_DOCUMENTS_ONLY ||
      !payload.query ||
      (tenantId !== undefined && trustedOnlyFor(tenantId))
    )
      return new GraphQLError("this edge executes trusted documents only", {
        extensions: { code: "PERSISTED_QUERY_ONLY" },
      });
    return payload.query;
  };
}

/**
 * Trusted documents (persisted operations): known operations by hash, and in trusted-only mode
 * nothing else, so that a production edge executes exactly what our clients were built with.
 * `trustedOnlyFor` turns trusted-only mode on for some requests (the feature flag
 * `edge.trusted_documents`, per tenant); with it the plugin is always installed, with an empty
 * manifest when there is no file (a tenant in trusted-only mode then executes nothing but hashes
 * this edge knows: none).
 */
export function trustedDocuments(
  cfg: TrustedDocumentsConfig,
  trustedOnlyFor?: (request: Request) => boolean | Promise<boolean>,
): Plugin[] {
  if (!cfg.EDGE_TRUSTED_DOCUMENTS_FILE) {
    if (cfg.EDGE_TRUSTED_DOCUMENTS_ONLY)
      throw new Error("EDGE_TRUSTED_DOCUMENTS_ONLY needs EDGE_TRUSTED_DOCUMENTS_FILE");
    if (!trustedOnlyFor) return [];
  }
  const documents = cfg.EDGE_TRUSTED_DOCUMENTS_FILE
    ? loadTrustedDocuments(cfg.EDGE_TRUSTED_DOCUMENTS_FILE)
    : new Map<string, string>();
  const typed = (code: string, message: string) => () => new GraphQLError(message, { extensions: { code } });
  return [
    usePersistedOperations({
      getPersistedOperation: (key) => documents.get(key) ?? null,
      allowArbitraryOperations:
        cfg.EDGE_TRUSTED_DOCUMENTS_ONLY || !trustedOnlyFor
          ? !cfg.EDGE_TRUSTED_DOCUMENTS_ONLY
          : async (request: Request) => !(await trustedOnlyFor(request)),
      customErrors: {
        notFound: typed(
          "PERSISTED_QUERY_NOT_FOUND",
          "unknown operation: not one of this edge's trusted documents",
        ),
        persistedQueryOnly: typed("PERSISTED_QUERY_ONLY", "this edge executes trusted documents only"),
        keyNotFound: typed(
          "PERSISTED_QUERY_ONLY",
          "send the operation's hash (extensions.persistedQuery.sha256Hash)",
        ),
      },
    }) as Plugin,
  ];
}
