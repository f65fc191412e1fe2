import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createSchema, createYoga } from "graphql-yoga";
import WebSocket from "ws";
import { AppError, createLogger } from "@lsp/runtime";
import type { Authenticator } from "../src/identity.js";
import { mountGraphQLWs } from "../src/live.js";
import { documentResolver } from "../src/trusted-documents.js";

const TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01";

/** Tokens are "user:<id>:<ms to live>"; anything else is refused as the real authenticator would. */
const authenticator: Authenticator = {
  authenticate: async ({ authorization }) => {
    const m = /^Bearer user:([a-z0-9-]+):(\d+)$/.exec(authorization ?? "");
    if (!m) throw new AppError("UNAUTHENTICATED", "log in first");
    return {
      identity: { tenantId: TENANT, userId: m[1] ?? "", role: "staff" },
      token: authorization ?? "",
      expiresAt: Date.now() + Number(m[2]),
    };
  },
};

async function edge(limits = { perUser: 2, perAddress: 100 }) {
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: "type Query { hello: String }",
      resolvers: { Query: { hello: () => "xin chào" } },
    }),
  });
  const server = createServer((req, res) => void yoga(req, res)).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const ws = mountGraphQLWs(
    server,
    yoga,
    authenticator,
    {
      EDGE_WS_MAX_PAYLOAD_BYTES: 4096,
      EDGE_WS_MAX_PER_USER: limits.perUser,
      EDGE_WS_MAX_PER_ADDRESS: limits.perAddress,
    },
    () => "203.0.113.7",
    documentResolver({ EDGE_TRUSTED_DOCUMENTS_ONLY: false }),
    createLogger("test", "fatal"),
  );
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    ws,
    /** Opens a socket, sends connection_init with `token`; resolves "ack" or the close code. */
    connect: (token?: string, pad = 0) =>
      new Promise<{ socket: WebSocket; first: Promise<string | number> }>((resolve) => {
        const socket = new WebSocket(url, "graphql-transport-ws");
        const first = new Promise<string | number>((done) => {
          socket.on("message", (m) => done(JSON.parse(String(m)).type as string));
          socket.on("close", (code) => done(code));
        });
        socket.on("open", () => {
          socket.send(
            JSON.stringify({
              type: "connection_init",
              payload: { ...(token ? { authorization: `Bearer ${token}` } : {}), pad: "x".repeat(pad) },
            }),
          );
          resolve({ socket, first });
        });
      }),
    close: async () => {
      await ws.close();
      server.close();
    },
  };
}

const closeOf = (socket: WebSocket) => new Promise<number>((r) => socket.once("close", (code) => r(code)));

test("a socket proves who it is at connection_init, and lives no longer than its token or its membership", async () => {
  const e = await edge();
  try {
    assert.equal(await (await e.connect()).first, 4403, "anonymous");
    assert.equal(await (await e.connect("forged")).first, 4403, "forged");

    const short = await e.connect("user:u1:300");
    assert.equal(await short.first, "connection_ack");
    assert.equal(await closeOf(short.socket), 4401, "closed when its token expires");

    const long = await e.connect("user:u2:600000");
    assert.equal(await long.first, "connection_ack");
    const closed = closeOf(long.socket);
    assert.equal(e.ws.closeSocketsOf(TENANT, "u2", "membership removed"), 1);
    assert.equal(await closed, 4403, "closed when the member is removed");
  } finally {
    await e.close();
  }
});

test("sockets per user are capped, and messages are bounded", async () => {
  const e = await edge({ perUser: 2, perAddress: 100 });
  try {
    const a = await e.connect("user:u3:600000");
    const b = await e.connect("user:u3:600000");
    assert.equal(await a.first, "connection_ack");
    assert.equal(await b.first, "connection_ack");
    assert.equal(await (await e.connect("user:u3:600000")).first, 1013, "a third socket of one user");
    assert.equal(
      await (
        await e.connect("user:u4:600000")
      ).first,
      "connection_ack",
      "another user is not affected",
    );
    assert.equal(await (await e.connect("user:u5:600000", 8192)).first, 1009, "a message over the limit");
    a.socket.close();
    b.socket.close();
  } finally {
    await e.close();
  }
});
