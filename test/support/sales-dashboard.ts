// The sales-dashboard suite's mesh and helpers (test/e2e/sales-dashboard.test.ts runs its scenario
// files in test/e2e/sales-dashboard/ against one mesh, in order: later scenarios read the history
// the first one loads, through `plan`).
import { after, before } from "node:test";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import type { PlannedOrder } from "../../scripts/datagen/generate.js";
import type { Gql } from "../../scripts/datagen/load.js";
import { startTestMesh } from "./mesh.js";
import { DEMO, edgeAuthHeaders, edgeClient } from "./graphql-client.js";
import { metricSum } from "./metrics.js";

export const BUN_CHA = {
  slug: "bun-cha-huong-lien",
  location: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b21",
  bunCha: "c1a0b2c3-d4e5-4f60-8a7b-000000000301",
  traDa: "c1a0b2c3-d4e5-4f60-8a7b-000000000302",
};

export const PAY = /* GraphQL */ `
  mutation ($input: PayOrderInput!) {
    payOrder(input: $input) {
      id
      status
    }
  }
`;
export const VOID = /* GraphQL */ `
  mutation ($input: VoidOrderInput!) {
    voidOrder(input: $input) {
      id
      status
    }
  }
`;

/** What every sales-dashboard scenario uses; the fields are set by the suite's `before`. */
export interface SalesDashboardMesh {
  mesh: Mesh;
  /** The edge as Phở Bò's demo owner. */
  gql: Gql;
  /** A graphql-ws client of the edge, logged in as the tenant's owner (disposed after the suite). */
  wsClient: (tenant: string) => Promise<Client>;
  /** The history the first scenario loaded (orders, and the menu's prices by item id). */
  plan: { orders: PlannedOrder[]; prices: Map<string, { name: string; priceVnd: number }> };
}

/** Collects a subscription's events (and its error, if it fails). */
export function collect<T>(client: Client, query: string) {
  const events: T[] = [];
  const state: { error?: unknown } = {};
  client.subscribe<T>(
    { query },
    {
      next: (v) => void (v.data ? events.push(v.data as T) : (state.error = v.errors)),
      error: (e) => void (state.error = e),
      complete: () => undefined,
    },
  );
  return { events, state };
}

/**
 * The edge's open subscriptions to an event type (`edge_live_subscriptions`): one is counted once
 * its stream has started, past its resolver's access checks, so an update published after that
 * reaches it. graphql-ws acknowledges no subscription: tests wait on this instead of sleeping.
 */
export function liveSubscriptions(
  mesh: Mesh,
  event: "dashboard.updated" | "notification.created",
): Promise<number> {
  return metricSum(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/metrics`, "edge_live_subscriptions", {
    event,
  });
}

/** Starts the suite's mesh in a `before` of the calling describe, and stops it after. */
export function useSalesDashboardMesh(): SalesDashboardMesh {
  const h = { plan: { orders: [], prices: new Map() } } as unknown as SalesDashboardMesh;
  const clients: Client[] = [];
  before(async () => {
    // Reload the stitched schema every second so that a failed reload is exercised quickly.
    process.env.EDGE_SCHEMA_POLL_MS = "1000";
    // The 2,000-order run must not meet the per-caller rate limit (tested on its own).
    process.env.EDGE_RATE_LIMIT_MAX = "100000";
    // Long enough that the cache scenario can only pass through event invalidation (the test
    // client skips the cache: edgeClient sends Cache-Control: no-cache).
    process.env.EDGE_RESPONSE_CACHE_TTL_MS = "60000";
    const mesh = await startTestMesh();
    const wsUrl = mesh.edgeUrl.replace(/^http/, "ws");
    h.mesh = mesh;
    h.gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug) as Gql;
    h.wsClient = async (tenant: string) => {
      const headers = await edgeAuthHeaders(mesh.edgeUrl, tenant);
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: headers,
        retryAttempts: 0,
        lazy: false,
      });
      clients.push(client);
      return client;
    };
  });
  after(async () => {
    for (const c of clients) await c.dispose();
    await h.mesh?.stop();
  });
  return h;
}
