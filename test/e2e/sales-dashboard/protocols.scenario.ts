// The graphql-http audit (every MUST) and graphql-ws close codes (PROTOCOL.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { serverAudits } from "graphql-http";
import { DEMO, edgeAuthHeaders } from "../../support/graphql-client.js";
import type { SalesDashboardMesh } from "../../support/sales-dashboard.js";

export function protocolScenarios(h: SalesDashboardMesh): void {
  test("the graphql-http server audits pass (every MUST); SHOULDs are reported", async (t) => {
    const { mesh } = h;
    const headers = await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
    const fetchFn = (input: RequestInfo | URL, init?: RequestInit) =>
      fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...headers } });
    const warnings: string[] = [];
    for (const audit of serverAudits({ url: mesh.edgeUrl, fetchFn })) {
      const result = await audit.fn();
      if (result.status === "error") assert.fail(`${audit.name}: ${result.reason}`);
      if (result.status === "warn") warnings.push(`${audit.name}: ${result.reason}`);
    }
    t.diagnostic(`graphql-http SHOULD warnings: ${warnings.length}`);
    for (const w of warnings) t.diagnostic(w);
  });

  test("graphql-ws close codes follow PROTOCOL.md", async () => {
    const { mesh } = h;
    const wsUrl = mesh.edgeUrl.replace(/^http/, "ws");
    const headers = await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
    const closeOf = (setup: (ws: WebSocket) => void, protocol: string | string[] = "graphql-transport-ws") =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(wsUrl, protocol);
        ws.on("open", () => setup(ws));
        ws.on("close", (code) => resolve(code));
        ws.on("error", () => undefined);
      });
    const init = JSON.stringify({ type: "connection_init", payload: headers });
    const sub = (id: string) =>
      JSON.stringify({
        id,
        type: "subscribe",
        payload: {
          query: `subscription { dashboardUpdates(locationId: "${DEMO.phoBo.hoanKiem}") { todayOrders } }`,
        },
      });
    // No graphql-transport-ws offered (a client offering only another one fails its own handshake).
    assert.equal(await closeOf(() => undefined, []), 4406, "unsupported subprotocol");
    assert.equal(await closeOf(() => undefined), 4408, "no connection_init in time");
    assert.equal(await closeOf((ws) => ws.send(sub("1"))), 4401, "subscribe before ack");
    const twice = (ws: WebSocket) => {
      ws.send(init);
      ws.send(init);
    };
    assert.equal(await closeOf(twice), 4429, "second connection_init");
    assert.equal(
      await closeOf((ws) => {
        ws.send(init);
        ws.on("message", (m) => {
          if (JSON.parse(String(m)).type !== "connection_ack") return;
          ws.send(sub("1"));
          ws.send(sub("1"));
        });
      }),
      4409,
      "duplicate subscription id",
    );
  });
}
