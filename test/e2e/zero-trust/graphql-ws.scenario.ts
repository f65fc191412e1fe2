// graphql-ws at the edge: anonymous sockets are closed at connection_init, a logged-in socket
// works, and an oversized message closes the socket unparsed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { DEMO, edgeAuthHeaders } from "../../support/graphql-client.js";
import { type ZeroTrustMesh } from "../../support/zero-trust.js";

export function graphqlWsScenarios(h: ZeroTrustMesh): void {
  test("graphql-ws: anonymous sockets are closed 4403 at connection_init; a logged-in socket works", async () => {
    const { mesh } = h;
    const wsUrl = mesh.edgeUrl.replace(/^http/, "ws");
    const closeOf = (connectionParams: Record<string, unknown>) =>
      new Promise<number>((resolve) => {
        const client = createClient({
          url: wsUrl,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          lazy: false,
          // The close is the expected answer, read in `closed`: not an error to print.
          onNonLazyError: () => undefined,
          connectionParams,
          on: { closed: (e) => resolve((e as { code: number }).code) },
        });
        client.on("connected", () => resolve(0));
      });
    assert.equal(await closeOf({ tenant: DEMO.phoBo.slug }), 4403);
    assert.equal(await closeOf({ tenant: DEMO.phoBo.slug, authorization: "Bearer junk" }), 4403);
    const headers = await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { tenant: DEMO.phoBo.slug, authorization: headers.authorization },
    });
    const result = await new Promise<unknown>((resolve, reject) => {
      client.subscribe(
        { query: "{ __typename }" },
        { next: resolve, error: reject, complete: () => undefined },
      );
    });
    assert.deepEqual(result, { data: { __typename: "Query" } });
    await client.dispose();
    // A message larger than the limit closes the socket (1009), it is never parsed.
    const raw = new WebSocket(wsUrl, "graphql-transport-ws");
    await new Promise((r) => raw.once("open", r));
    const closed = new Promise<number>((r) => raw.once("close", (code) => r(code)));
    raw.send(JSON.stringify({ type: "connection_init", payload: { pad: "x".repeat(200 * 1024) } }));
    assert.equal(await closed, 1009);
  });
}
