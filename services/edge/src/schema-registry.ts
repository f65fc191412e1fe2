import { createHash } from "node:crypto";
import type { GraphQLSchema } from "graphql";
import type { Logger } from "@lsp/runtime";

export interface SchemaRegistryOptions {
  /** The services whose subschemas the edge stitches, in a fixed order. */
  apps: readonly string[];
  /** The services the edge must have stitched before it reports ready (a subset of `apps`). */
  required: readonly string[];
  fetchSdl(app: string): Promise<string>;
  /** Stitches the given SDLs (and the edge's own schemas); throws when they do not stitch. */
  build(sdls: ReadonlyMap<string, string>): GraphQLSchema;
  log: Logger;
  /** How often every subschema is asked again for changes once all of them are in. */
  pollMs: number;
  /**
   * How soon a subschema that has never answered is asked again; the delay doubles while nothing
   * new comes, up to eight times this (a service that is not deployed is not asked twice a second).
   */
  retryMs: number;
}

/**
 * The gateway schema, kept current. The edge stitches whatever subschemas answer and adds the
 * others when they come (`LSP_APPS=edge,sales npm start` serves sales' fields without waiting for
 * the rest); a service that answered once and is down later keeps its last SDL, so its fields stay
 * in the schema and answer UNAVAILABLE instead of vanishing. A changed set of SDLs is stitched off
 * the request path and swapped in atomically; SDLs that do not stitch keep the last good schema.
 */
export function schemaRegistry(opts: SchemaRegistryOptions) {
  const { apps, log } = opts;
  let current: { schema: GraphQLSchema; hash: string; sdls: ReadonlyMap<string, string> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastError: string | undefined;
  let retryDelay = opts.retryMs;

  const stitched = () => apps.filter((app) => current?.sdls.has(app));
  const unanswered = () => apps.filter((app) => !current?.sdls.has(app));

  async function reload(): Promise<void> {
    const answers = await Promise.allSettled(apps.map((app) => opts.fetchSdl(app)));
    const sdls = new Map<string, string>();
    const failures: string[] = [];
    answers.forEach((answer, i) => {
      const app = apps[i] as string;
      const last = current?.sdls.get(app);
      if (answer.status === "fulfilled") sdls.set(app, answer.value);
      else {
        failures.push(`${app}: ${String(answer.reason)}`);
        if (last !== undefined) sdls.set(app, last);
      }
    });
    lastError = failures.length ? failures.join("; ") : undefined;
    const hash = createHash("sha256")
      .update(apps.map((app) => `${app}\u0000${sdls.get(app) ?? ""}`).join("\u0000"))
      .digest("hex");
    if (current?.hash === hash) return;
    let schema: GraphQLSchema;
    try {
      schema = opts.build(sdls);
    } catch (err) {
      lastError = `the subschemas do not stitch: ${String(err)}`;
      log.warn({ err: lastError }, "schema reload failed; keeping the last good schema");
      return;
    }
    const first = !current;
    if (sdls.size > (current?.sdls.size ?? 0)) retryDelay = opts.retryMs;
    current = { schema, hash, sdls };
    log.info(
      { subschemas: stitched(), missing: unanswered(), hash: hash.slice(0, 12), first },
      "gateway schema swapped in",
    );
  }

  function schedule(): void {
    if (stopped) return;
    let delay = opts.pollMs;
    if (unanswered().length > 0) {
      delay = Math.min(retryDelay, opts.pollMs);
      retryDelay = Math.min(retryDelay * 2, opts.retryMs * 8);
    }
    timer = setTimeout(() => {
      void reload().finally(schedule);
    }, delay);
    timer.unref();
  }

  return {
    schema: () => current?.schema,
    /** The services whose subschemas the current schema holds. */
    stitched,
    /** Throws (readiness answers 503) until a schema holds every required subschema. */
    checkReady(): void {
      const missing = opts.required.filter((app) => !current?.sdls.has(app));
      if (!current || missing.length > 0)
        throw new Error(
          `gateway schema lacks ${missing.length ? missing.join(", ") : "everything"}${lastError ? ` (${lastError})` : ""}`,
        );
    },
    lastError: () => lastError,
    /** Loads a first schema from whatever answers, then keeps polling. */
    async start(): Promise<void> {
      await reload();
      schedule();
    },
    reload,
    stop(): void {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The services that serve a GraphQL subschema to the edge, read from the edge's invocation
 * allow-list (components/access.yaml, passed as LSP_ALLOWED_INVOCATIONS locally and in the chart):
 * every service the edge may call at `POST /graphql`, so the list is written once.
 */
export function subschemaApps(allowedInvocations: string | undefined): string[] {
  if (allowedInvocations === undefined)
    throw new Error("LSP_ALLOWED_INVOCATIONS is not set: the edge reads its subschemas from it");
  const allowed = JSON.parse(allowedInvocations) as Record<string, string[]>;
  return Object.entries(allowed)
    .filter(([, ops]) => ops.includes("POST /graphql"))
    .map(([app]) => app);
}
