import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import os from "node:os";
import path from "node:path";
import { GraphQLError } from "graphql";
import { AppError, createLogger } from "@lsp/runtime";
import { AUTH_ROUTES, upgradeClientAddress } from "../src/auth-passthrough.js";
import { memberChanges } from "../src/members.js";
import { isPublicRootField } from "../src/stitching.js";
import { documentResolver, loadTrustedDocuments } from "../src/trusted-documents.js";

const upgrade = (peer: string, forwarded?: string) =>
  ({
    socket: { remoteAddress: peer },
    headers: forwarded ? { "x-forwarded-for": forwarded } : {},
  }) as unknown as IncomingMessage;

test("the client address is the one `hops` proxies back; with 0 hops X-Forwarded-For is ignored", () => {
  assert.equal(upgradeClientAddress(upgrade("10.0.0.5", "203.0.113.7"), 0), "10.0.0.5");
  assert.equal(upgradeClientAddress(upgrade("10.0.0.5", "203.0.113.7"), 1), "203.0.113.7");
  // A client that writes its own X-Forwarded-For only adds entries further left.
  assert.equal(upgradeClientAddress(upgrade("10.0.0.5", "1.1.1.1, 203.0.113.7"), 1), "203.0.113.7");
  assert.equal(upgradeClientAddress(upgrade("10.0.0.5", "1.1.1.1, 203.0.113.7, 10.0.0.9"), 2), "203.0.113.7");
  // More hops than entries: the leftmost known address, never an invented one.
  assert.equal(upgradeClientAddress(upgrade("10.0.0.5", "203.0.113.7"), 5), "203.0.113.7");
});

test("auth's pass-through is exactly four routes", () => {
  assert.deepEqual([...AUTH_ROUTES], ["otp/request", "otp/verify", "refresh", "logout"]);
});

test("stitching's plumbing is not public", () => {
  for (const name of ["_sdl", "_salesLocations", "_dashboardLive", "__typename"])
    assert.equal(isPublicRootField(name), false);
  for (const name of ["location", "order", "dashboardUpdates"]) assert.equal(isPublicRootField(name), true);
});

test("trusted documents: a manifest whose keys are not their documents' hashes is refused", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "lsp-docs-"));
  const doc = "query Today { __typename }";
  const hash = createHash("sha256").update(doc).digest("hex");
  const good = path.join(dir, "good.json");
  writeFileSync(good, JSON.stringify({ [hash]: doc }));
  assert.equal(loadTrustedDocuments(good).get(hash), doc);
  const bad = path.join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ [hash]: `${doc} ` }));
  assert.throws(() => loadTrustedDocuments(bad), /not the hash/);

  const only = documentResolver({ EDGE_TRUSTED_DOCUMENTS_FILE: good, EDGE_TRUSTED_DOCUMENTS_ONLY: true });
  assert.equal(only({ extensions: { persistedQuery: { sha256Hash: hash } } }), doc);
  const refused = only({ query: "{ __schema { types { name } } }" });
  assert.ok(refused instanceof GraphQLError && refused.extensions.code === "PERSISTED_QUERY_ONLY");
  const unknown = only({ extensions: { persistedQuery: { sha256Hash: "0".repeat(64) } } });
  assert.ok(unknown instanceof GraphQLError && unknown.extensions.code === "PERSISTED_QUERY_NOT_FOUND");
  const open = documentResolver({ EDGE_TRUSTED_DOCUMENTS_ONLY: false });
  assert.equal(open({ query: "{ __typename }" }), "{ __typename }");

  // Trusted-only per tenant (feature flag edge.trusted_documents): that tenant's sockets only.
  const perTenant = documentResolver({ EDGE_TRUSTED_DOCUMENTS_ONLY: false }, (tenantId) => tenantId === "t1");
  const tenantRefused = perTenant({ query: "{ __typename }" }, "t1");
  assert.ok(
    tenantRefused instanceof GraphQLError && tenantRefused.extensions.code === "PERSISTED_QUERY_ONLY",
  );
  assert.equal(perTenant({ query: "{ __typename }" }, "t2"), "{ __typename }");
  assert.equal(perTenant({ query: "{ __typename }" }), "{ __typename }");
});

test("a member's tokens issued before their membership changed stop working; later ones work", () => {
  const members = memberChanges(createLogger("test", "fatal"));
  const routes: Record<string, (req: unknown, res: unknown) => Promise<void>> = {};
  const app = {
    post: (route: string, handler: (req: unknown, res: unknown) => Promise<void>) =>
      (routes[route] = handler),
  };
  let closed = 0;
  members.mount(app as never, () => ++closed);
  const who = {
    tenantId: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01",
    userId: "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a41",
    role: "staff" as const,
  };
  const changedAt = Date.parse("2026-11-29T10:00:00Z");
  return (async () => {
    const res = { status: () => res, json: () => res, end: () => res };
    await routes["/events/members"]?.(
      {
        body: {
          id: "e1",
          type: "member.changed",
          data: { ...who, change: "removed", occurredAt: new Date(changedAt).toISOString() },
        },
        headers: {},
      },
      res,
    );
    assert.equal(closed, 1, "the member's sockets were closed");
    assert.throws(
      () => members.check(who, changedAt - 1000),
      (e: unknown) => e instanceof AppError && e.code === "TOKEN_INVALID",
    );
    assert.doesNotThrow(() => members.check(who, changedAt + 1000));
    assert.doesNotThrow(() => members.check({ ...who, userId: "someone-else" }, changedAt - 1000));
  })();
});
