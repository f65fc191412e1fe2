// The Dapr configuration the launcher generates enforces exactly components/access.yaml, and
// docs/security.md's table says the same. Dapr's own evaluation is reproduced here (deny by
// default, per-caller policies, `/*` one segment, verbs; protected topics with scopes; secret
// allow-lists) so that a generated file that would let more through fails this test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { invocationAllowed } from "@lsp/dapr";
import {
  accessTable,
  topicTable,
  allowedInvocations,
  loadAccess,
  LOCAL_NAMESPACE,
  TRUST_DOMAIN,
  type Access,
} from "./access.js";
import { renderComponents } from "./dapr-runtime.js";
import { REPO } from "./mesh.js";

const access = loadAccess(REPO);
const runDir = mkdtempSync(path.join(os.tmpdir(), "lsp-access-"));
const values = {
  REDIS_ADDR: "127.0.0.1:1",
  SECRETS_FILE: "/dev/null",
  MERCHANT_SECRETS_FILE: "/dev/null",
  NAME_RESOLUTION_DB: path.join(runDir, "nr.db"),
  FLAGS_CONNECTION_STRING: "host=127.0.0.1 port=1 user=cfg_flags dbname=lsp search_path=auth",
};
const rendered = renderComponents(REPO, runDir, values, access);

interface Acl {
  defaultAction: string;
  trustDomain: string;
  policies: {
    appId: string;
    defaultAction: string;
    trustDomain: string;
    namespace: string;
    operations: { name: string; httpVerb: string[]; action: string }[];
  }[];
}
interface SidecarConfig {
  spec: {
    accessControl: Acl;
    secrets: { scopes: { storeName: string; defaultAccess: string; allowedSecrets?: string[] }[] };
  };
}
const configOf = (app: string) =>
  parse(readFileSync(rendered.configFiles[app] ?? "", "utf8")) as SidecarConfig;

/** Dapr's access-control decision for `caller` calling `verb path` on the app with `acl`. */
function allowed(acl: Acl, caller: string, verb: string, opPath: string): boolean {
  const policy = acl.policies.find(
    (p) => p.appId === caller && p.namespace === LOCAL_NAMESPACE && p.trustDomain === TRUST_DOMAIN,
  );
  if (!policy) return acl.defaultAction === "allow";
  const segs = opPath.toLowerCase().split("/");
  const op = policy.operations.find((o) => {
    const pat = o.name.toLowerCase().split("/");
    if (pat[pat.length - 1] === "**")
      return segs.slice(0, pat.length - 1).join("/") === pat.slice(0, -1).join("/");
    return pat.length === segs.length && pat.every((p, i) => p === "*" || p === segs[i]);
  });
  const action = op
    ? op.httpVerb.includes(verb) || op.httpVerb.includes("*")
      ? op.action
      : policy.defaultAction
    : policy.defaultAction;
  return action === "allow";
}

const APPS = Object.keys(access.apps);
/** Operations nobody lists: what an attacker inside would try. */
const PROBES = [
  "POST /graphql",
  "GET /v1/locations/x",
  "POST /v1/keys/rotate",
  "GET /dev/sms-sink",
  "POST /events/orders",
  "POST /events/payments",
  "POST /digest-cron",
  "POST /api/v1/auth/otp/verify",
  "GET /v1/tenants/by-slug/x",
  "POST /v1/webhooks/momo",
  "GET /.well-known/jwks.json",
  "POST /deadletters/payments-notifications-deadletter",
];

function listed(a: Access, caller: string, callee: string, verb: string, opPath: string): boolean {
  return (a.apps[caller]?.invokes[callee] ?? []).some((o) => {
    const pat = o.path.split("/");
    const segs = opPath.split("/");
    return o.verb === verb && pat.length === segs.length && pat.every((p, i) => p === "*" || p === segs[i]);
  });
}

test("every sidecar allows exactly the invocations access.yaml lists, and denies the rest", () => {
  for (const callee of APPS) {
    const acl = configOf(callee).spec.accessControl;
    assert.equal(acl.defaultAction, "deny", `${callee}: default deny`);
    for (const caller of [...APPS, "intruder"]) {
      for (const probe of PROBES) {
        const [verb = "", opPath = ""] = probe.split(" ");
        assert.equal(
          allowed(acl, caller, verb, opPath),
          listed(access, caller, callee, verb, opPath),
          `${caller} → ${callee}: ${probe}`,
        );
      }
      for (const op of access.apps[caller]?.invokes[callee] ?? [])
        assert.ok(
          allowed(acl, caller, op.verb, op.path.replace("*", "x")),
          `${caller} → ${callee}: ${op.verb} ${op.path}`,
        );
    }
  }
});

test("secret scopes: each app reads only its listed keys of the shared store", () => {
  for (const app of APPS) {
    const scopes = configOf(app).spec.secrets.scopes;
    const shared = scopes.find((s) => s.storeName === "secretstore");
    assert.equal(shared?.defaultAccess, "deny", app);
    assert.deepEqual(shared?.allowedSecrets ?? [], access.apps[app]?.secrets, app);
  }
  const stores = readdirSync(rendered.resourcesDir).flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(rendered.resourcesDir, f), "utf8")).map(
      (d) =>
        d.toJS() as { kind: string; metadata: { name: string }; spec?: { type?: string }; scopes?: string[] },
    ),
  );
  const merchant = stores.find((c) => c.metadata.name === "merchant-credentials");
  assert.deepEqual(merchant?.scopes, ["payments"]);
  const shared = stores.find((c) => c.metadata.name === "secretstore");
  // The internet-facing edge loads the shared store for its own listed keys only (the export-link
  // key), never the merchants' store; which keys it may read is asserted above.
  assert.equal(shared?.scopes?.includes("edge"), (access.apps.edge?.secrets.length ?? 0) > 0, "edge");
  assert.ok(!merchant?.scopes?.includes("edge"), "the edge never loads merchant credentials");
});

test("pub/sub: every topic protected, every app scoped to exactly its topics", () => {
  const [pubsub, fanout] = ["pubsub", "pubsub-fanout"].map((name) =>
    parseAllDocuments(readFileSync(path.join(rendered.resourcesDir, "pubsub.yaml"), "utf8"))
      .map(
        (d) =>
          d.toJS() as { metadata: { name: string }; spec: { metadata: { name: string; value: string }[] } },
      )
      .find((d) => d.metadata.name === name)!,
  );
  const meta = Object.fromEntries(pubsub!.spec.metadata.map((m) => [m.name, m.value]));
  assert.deepEqual(meta.protectedTopics?.split(","), access.topics);
  assert.deepEqual(meta.allowedTopics?.split(","), access.topics);
  const scopes = (value = "") =>
    Object.fromEntries(
      value.split(";").map((s) => [s.split("=")[0], (s.split("=")[1] ?? "").split(",").filter(Boolean)]),
    );
  const pub = scopes(meta.publishingScopes);
  const sub = scopes(meta.subscriptionScopes);
  for (const app of APPS) {
    assert.deepEqual(pub[app], access.apps[app]?.publishes, `${app} publishes`);
    const a = access.apps[app];
    assert.deepEqual(
      sub[app],
      a?.subscribes.filter((t) => !(a.fanOut ?? []).includes(t)),
      `${app} subscribes through pubsub (the topics it does not fan out)`,
    );
  }
  // The fan-out component: nobody publishes through it; apps subscribe to their fan-out topics
  // through it alone, each replica as its own consumer group (its pod name).
  const fanoutMeta = Object.fromEntries(fanout!.spec.metadata.map((m) => [m.name, m.value]));
  assert.equal(fanoutMeta.consumerID, "{podName}");
  assert.deepEqual(fanoutMeta.protectedTopics?.split(","), access.topics);
  const fanoutPub = scopes(fanoutMeta.publishingScopes);
  const fanoutSub = scopes(fanoutMeta.subscriptionScopes);
  for (const app of APPS) {
    assert.deepEqual(fanoutPub[app], [], `${app} publishes nothing through pubsub-fanout`);
    const a = access.apps[app];
    assert.deepEqual(fanoutSub[app], a?.fanOut ?? [], `${app} subscribes through pubsub-fanout`);
  }
  for (const f of ["maxLenApprox"]) {
    assert.equal(meta[f], undefined, `pubsub is never trimmed by length (${f})`);
    assert.equal(fanoutMeta[f], undefined, `pubsub-fanout is never trimmed by length (${f})`);
  }
  assert.equal(meta.streamTTL, fanoutMeta.streamTTL, "both trim by the same age");
});

test("each app subscribes exactly the topics its Subscriptions name, and may publish their dead-letter topics", () => {
  const subscriptions = readdirSync(path.join(REPO, "components", "local")).flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(REPO, "components", "local", f), "utf8"))
      .map(
        (d) =>
          d.toJS() as {
            kind?: string;
            spec?: { topic: string; deadLetterTopic?: string };
            scopes?: string[];
          },
      )
      .filter((d) => d?.kind === "Subscription"),
  );
  for (const app of APPS) {
    const mine = subscriptions.filter((s) => s.scopes?.includes(app));
    assert.deepEqual(
      [...new Set(mine.map((s) => s.spec?.topic))].sort(),
      [...(access.apps[app]?.subscribes ?? [])].sort(),
      `${app}: Subscriptions vs access.yaml`,
    );
    for (const s of mine)
      if (s.spec?.deadLetterTopic)
        assert.ok(
          access.apps[app]?.publishes.includes(s.spec.deadLetterTopic),
          `${app} → ${s.spec.deadLetterTopic}`,
        );
  }
});

test("docs/security.md's table is generated from access.yaml", () => {
  const doc = readFileSync(path.join(REPO, "docs", "security.md"), "utf8");
  const table = /<!-- access-table:begin -->\n([\s\S]*?)\n<!-- access-table:end -->/.exec(doc)?.[1];
  assert.equal(table, accessTable(access), "run `npx tsx scripts/mesh/access.ts --table` and paste it");
});

test("docs/architecture.md's topic table is generated from access.yaml and the contracts", async () => {
  const { EVENTS } = await import("@lsp/contracts");
  const eventTopics = Object.fromEntries(Object.entries(EVENTS).map(([type, e]) => [type, e.topic]));
  const doc = readFileSync(path.join(REPO, "docs", "architecture.md"), "utf8");
  const table = /<!-- topic-table:begin -->\n([\s\S]*?)\n<!-- topic-table:end -->/.exec(doc)?.[1];
  assert.equal(
    table,
    topicTable(access, eventTopics),
    "run `npx tsx scripts/mesh/access.ts --topics` and paste it",
  );
});

test("every topic of the event contracts is a topic of access.yaml (a refused publish blocks an outbox)", async () => {
  const { TOPICS } = await import("@lsp/contracts");
  for (const topic of Object.values(TOPICS)) assert.ok(access.topics.includes(topic), `${topic} missing`);
});

test("each app's own sidecar client refuses the same invocations its callees' access control refuses", () => {
  for (const caller of APPS) {
    const list = allowedInvocations(access, caller);
    for (const callee of APPS)
      for (const probe of PROBES) {
        const [verb = "", opPath = ""] = probe.split(" ");
        assert.equal(
          invocationAllowed(list, callee, verb, opPath.replace(/^\//, "")),
          listed(access, caller, callee, verb, opPath),
          `${caller} → ${callee}: ${probe}`,
        );
      }
  }
});

test("component scopes: each sidecar loads exactly the components access.yaml says its app uses", () => {
  const components = readdirSync(rendered.resourcesDir)
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(rendered.resourcesDir, f), "utf8")))
    .map((d) => d.toJS() as { kind: string; metadata: { name: string }; scopes?: string[] })
    .filter((d) => d.kind === "Component");
  const loadedBy = (app: string) =>
    components
      .filter((c) => c.scopes?.includes(app))
      .map((c) => c.metadata.name)
      .sort();
  // Unscoped, a component would be loaded by every sidecar.
  for (const c of components) assert.ok(c.scopes?.length, `${c.metadata.name} has no scopes`);
  for (const [app, a] of Object.entries(access.apps)) {
    const expected = [
      ...(a.components ?? []),
      ...(a.publishes.length + a.subscribes.filter((t) => !(a.fanOut ?? []).includes(t)).length
        ? ["pubsub"]
        : []),
      ...(a.fanOut?.length ? ["pubsub-fanout"] : []),
      ...(a.merchantCredentials ? ["merchant-credentials"] : []),
    ];
    // The shared secret store: for an app given secrets, or whose components read theirs from it.
    const loaded = loadedBy(app).filter((name) => name !== "secretstore");
    assert.deepEqual(loaded, expected.sort(), app);
  }
  assert.deepEqual(
    loadedBy("edge"),
    ["cache", "flags", "pubsub-fanout", "secretstore"],
    "the edge loads no store or binding it does not use (the secret store: for its export-link key; no pubsub: it publishes nothing and reads every topic per replica)",
  );
  // The templates name no scopes of their own: access.yaml is the one source.
  for (const file of readdirSync(path.join(REPO, "components", "local")))
    for (const d of parseAllDocuments(readFileSync(path.join(REPO, "components", "local", file), "utf8"))) {
      const doc = d.toJS() as { kind?: string; metadata?: { name?: string }; scopes?: unknown } | null;
      if (doc?.kind === "Component")
        assert.equal(
          doc.scopes,
          undefined,
          `components/local/${file}: ${doc.metadata?.name} names its own scopes`,
        );
    }
});

test("component scopes: a component no app uses, or an app naming an unknown one, is refused", () => {
  const unknown = structuredClone(access);
  unknown.apps.sales = { ...unknown.apps.sales!, components: ["no-such-component"] };
  assert.throws(
    () => renderComponents(REPO, mkdtempSync(path.join(os.tmpdir(), "lsp-access-")), values, unknown),
    /sales uses no-such-component/,
  );
  const unused = structuredClone(access);
  for (const a of Object.values(unused.apps)) a.components = (a.components ?? []).filter((c) => c !== "sms");
  assert.throws(
    () => renderComponents(REPO, mkdtempSync(path.join(os.tmpdir(), "lsp-access-")), values, unused),
    /no app uses the Dapr component sms/,
  );
});
