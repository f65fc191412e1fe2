/**
 * components/access.yaml — who may invoke, read, publish and subscribe what — turned into the Dapr
 * settings that enforce it: each sidecar's accessControl and secret scopes, and the pub/sub
 * component's topic scopes. The local launcher writes them; the chart renders the same from its
 * copy of the file; tests compare both against this reading.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";

type Verb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
/** "VERB /path", the path in Dapr ACL syntax (`/*` one segment, `/**` any). */
const OperationText = z
  .string()
  .regex(/^(GET|POST|PUT|PATCH|DELETE) \/[A-Za-z0-9._~/*-]*$/, "expected 'VERB /path'");
const Operation = OperationText.transform((s) => {
  const [verb, opPath] = s.split(" ") as [Verb, string];
  return { verb, path: opPath };
});

/** The file's schema, with operations as written ("VERB /path") or parsed ({verb, path}). */
function accessFile<O extends z.ZodType>(operation: O) {
  return z.strictObject({
    topics: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).min(1),
    apps: z.record(
      z.string(),
      z.strictObject({
        invokes: z.record(z.string(), z.array(operation)),
        actors: z.array(z.string()).optional(),
        secrets: z.array(z.string()),
        merchantCredentials: z.boolean().optional(),
        /** Dapr components its sidecar loads besides pub/sub and the secret stores (state, bindings). */
        components: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).optional(),
        publishes: z.array(z.string()),
        subscribes: z.array(z.string()),
        /**
         * Of its `subscribes`, the topics every replica must receive every event of (live
         * updates, per-replica caches), read through pubsub-fanout: one consumer group per
         * replica. The other topics go to one replica each (`pubsub`: one group per app).
         */
        fanOut: z.array(z.string()).optional(),
      }),
    ),
  });
}
const AccessFile = accessFile(Operation);
export type Access = z.infer<typeof AccessFile>;
export type AppAccess = Access["apps"][string];
/** access.yaml as written (the chart's checks compare its text form with rendered resources). */
export const AccessText = accessFile(OperationText);
export type AccessText = z.infer<typeof AccessText>;

/** Dapr's trust domain of workload identities when a Configuration does not name one. */
export const TRUST_DOMAIN = "public";
/** Self-hosted daprd's namespace (the NAMESPACE env var, unset locally). */
export const LOCAL_NAMESPACE = "default";
export const SECRET_STORE = "secretstore";
export const MERCHANT_STORE = "merchant-credentials";
export const PUBSUB = "pubsub";
/** The same streams as PUBSUB, read with one consumer group per replica (scripts/mesh/fanout.ts). */
export const PUBSUB_FANOUT = "pubsub-fanout";

export function loadAccess(repo: string): Access {
  const file = path.join(repo, "components", "access.yaml");
  const access = AccessFile.parse(parse(readFileSync(file, "utf8")));
  const apps = Object.keys(access.apps);
  for (const [app, a] of Object.entries(access.apps)) {
    for (const callee of Object.keys(a.invokes))
      if (!apps.includes(callee)) throw new Error(`access.yaml: ${app} invokes unknown app ${callee}`);
    for (const t of [...a.publishes, ...a.subscribes])
      if (!access.topics.includes(t)) throw new Error(`access.yaml: ${app} names unknown topic ${t}`);
    for (const t of a.fanOut ?? [])
      if (!a.subscribes.includes(t))
        throw new Error(`access.yaml: ${app} fans out ${t}, which it does not subscribe to`);
  }
  return access;
}

/** The topics every replica of the app reads (pubsub-fanout). */
export function fanOutTopicsOf(a: Pick<AppAccess, "fanOut">): string[] {
  return a.fanOut ?? [];
}

/** The topics the app's replicas share, each event to one of them (pubsub). */
export function sharedTopicsOf(a: Pick<AppAccess, "subscribes" | "fanOut">): string[] {
  const fanOut = fanOutTopicsOf(a);
  return a.subscribes.filter((t) => !fanOut.includes(t));
}

interface AclOperation {
  name: string;
  httpVerb: string[];
  action: "allow";
}

/** The callee's accessControl: deny by default, each caller allowed exactly its listed operations. */
export function accessControlFor(access: Access, callee: string, namespace = LOCAL_NAMESPACE) {
  const policies = Object.entries(access.apps)
    .filter(([, a]) => a.invokes[callee]?.length)
    .map(([caller, a]) => {
      const byPath = new Map<string, string[]>();
      for (const op of a.invokes[callee] ?? [])
        byPath.set(op.path, [...(byPath.get(op.path) ?? []), op.verb]);
      const operations: AclOperation[] = [...byPath].map(([name, httpVerb]) => ({
        name,
        httpVerb,
        action: "allow",
      }));
      return { appId: caller, defaultAction: "deny", trustDomain: TRUST_DOMAIN, namespace, operations };
    });
  return { defaultAction: "deny", trustDomain: TRUST_DOMAIN, policies };
}

/**
 * The app's secret scopes: only its listed keys of the shared store. The merchant store needs no
 * scope: it is loaded by payments' sidecar alone (component scopes) and holds nothing else.
 */
export function secretScopesFor(access: Access, app: string) {
  const a = access.apps[app];
  if (!a) throw new Error(`access.yaml has no app ${app}`);
  return [{ storeName: SECRET_STORE, defaultAccess: "deny", allowedSecrets: a.secrets }];
}

/** The pub/sub component's topic metadata: every topic protected, every app scoped. */
export function pubsubScopeMetadata(
  access: Access,
  component: typeof PUBSUB | typeof PUBSUB_FANOUT = PUBSUB,
): Record<string, string> {
  // Nobody publishes through the fan-out component; an app subscribes to a topic through one of
  // the two components, never both.
  const fanout = component === PUBSUB_FANOUT;
  const scopes = (pick: (a: AppAccess) => string[]) =>
    Object.entries(access.apps)
      .map(([app, a]) => `${app}=${pick(a).join(",")}`)
      .join(";");
  return {
    allowedTopics: access.topics.join(","),
    // Without protection, Dapr lets an app that has no scope for a topic publish and subscribe to it.
    protectedTopics: access.topics.join(","),
    publishingScopes: scopes((a) => (fanout ? [] : a.publishes)),
    subscriptionScopes: scopes((a) => (fanout ? fanOutTopicsOf(a) : sharedTopicsOf(a))),
  };
}

/** What `app` may invoke, as the JSON its sidecar client checks (LSP_ALLOWED_INVOCATIONS). */
export function allowedInvocations(access: Access, app: string): string {
  const invokes = access.apps[app]?.invokes ?? {};
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(invokes).map(([callee, ops]) => [callee, ops.map((o) => `${o.verb} ${o.path}`)]),
    ),
  );
}

/** The services `app` may call at `POST /graphql`: for the edge, the subschemas it stitches. */
export function graphqlCallees(access: Access, app: string): string[] {
  return Object.entries(access.apps[app]?.invokes ?? {})
    .filter(([, ops]) => ops.some((o) => o.verb === "POST" && o.path === "/graphql"))
    .map(([callee]) => callee);
}

/** The apps that read merchant credentials (their store is scoped to them alone). */
export function appsWithMerchantCredentials(access: Access): string[] {
  return Object.entries(access.apps)
    .filter(([, a]) => a.merchantCredentials)
    .map(([app]) => app);
}

/**
 * The apps whose sidecars load the Dapr component `name` (its `scopes`): a sidecar loads only what
 * its app uses (Dapr skips a component whose scopes do not name the app, before initialising it).
 * pub/sub: the apps that publish or subscribe; the merchant store: the apps given merchant
 * credentials; the shared secret store: the apps given secrets, plus `secretStoreUsers` (locally,
 * apps whose components read their settings from it); any other: the apps listing it in
 * `components`. Throws for a component no app uses.
 */
export function componentScopes(access: Access, name: string, secretStoreUsers: string[] = []): string[] {
  const apps = Object.entries(access.apps);
  const pick = (use: (app: string, a: AppAccess) => boolean) =>
    apps.filter(([app, a]) => use(app, a)).map(([app]) => app);
  let scopes: string[];
  if (name === PUBSUB) scopes = pick((_, a) => a.publishes.length + sharedTopicsOf(a).length > 0);
  else if (name === PUBSUB_FANOUT) scopes = pick((_, a) => fanOutTopicsOf(a).length > 0);
  else if (name === MERCHANT_STORE) scopes = pick((_, a) => a.merchantCredentials === true);
  else if (name === SECRET_STORE)
    scopes = pick((app, a) => a.secrets.length > 0 || secretStoreUsers.includes(app));
  else scopes = pick((_, a) => (a.components ?? []).includes(name));
  if (scopes.length === 0) throw new Error(`access.yaml: no app uses the Dapr component ${name}`);
  return scopes;
}

/** docs/security.md's table of rights, generated from access.yaml (the test keeps them equal). */
export function accessTable(access: Access): string {
  const cell = (items: string[]) => (items.length ? items.map((i) => `\`${i}\``).join(", ") : "—");
  const rows = Object.entries(access.apps).map(([app, a]) => {
    const invokes = Object.entries(a.invokes).map(
      ([callee, ops]) => `**${callee}**: ${ops.map((o) => `\`${o.verb} ${o.path}\``).join(", ")}`,
    );
    const secrets = [...a.secrets, ...(a.merchantCredentials ? [`${MERCHANT_STORE} (all)`] : [])];
    return `| ${app} | ${invokes.length ? invokes.join("<br>") : "—"} | ${cell(a.actors ?? [])} | ${cell(secrets)} | ${cell(a.publishes)} | ${cell(a.subscribes)} |`;
  });
  return [
    "| app | may invoke (callee: operations) | actor types | secrets it may read | publishes | subscribes |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/**
 * docs/architecture.md's table of topics: the event types each carries (from the contracts, passed
 * in as CloudEvent type → topic) and which apps publish and subscribe (from access.yaml).
 */
export function topicTable(access: Access, eventTopics: Record<string, string>): string {
  const cell = (items: string[]) => (items.length ? items.map((i) => `\`${i}\``).join(", ") : "—");
  const apps = Object.entries(access.apps);
  const rows = access.topics.map((topic) => {
    const events = Object.entries(eventTopics)
      .filter(([, t]) => t === topic)
      .map(([type]) => type);
    const publishers = apps.filter(([, a]) => a.publishes.includes(topic)).map(([app]) => app);
    const subscribers = apps.filter(([, a]) => a.subscribes.includes(topic)).map(([app]) => app);
    const carries = events.length ? cell(events) : topic.endsWith("-deadletter") ? "dead letters" : "—";
    return `| \`${topic}\` | ${carries} | ${cell(publishers)} | ${cell(subscribers)} |`;
  });
  return ["| topic | carries | published by | subscribed by |", "|---|---|---|---|", ...rows].join("\n");
}

// `npx tsx scripts/mesh/access.ts --table` prints the table for docs/security.md, `--topics` the
// one for docs/architecture.md.
if (process.argv[1]?.endsWith("access.ts")) {
  const access = loadAccess(path.resolve(import.meta.dirname, "..", ".."));
  if (process.argv.includes("--table")) console.log(accessTable(access));
  if (process.argv.includes("--topics")) {
    const { EVENTS } = await import("@lsp/contracts");
    const eventTopics = Object.fromEntries(Object.entries(EVENTS).map(([type, e]) => [type, e.topic]));
    console.log(topicTable(access, eventTopics));
  }
}
