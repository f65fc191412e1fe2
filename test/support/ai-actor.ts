// A location's AI actor called as the edge calls it: through the edge's sidecar with the edge's
// token, by @lsp/dapr's typed client (no hand-built sidecar URL). For what the edge does not
// expose: a retrain asked now, the actor's own summary.
import { invokeActor } from "@lsp/dapr";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { eventually } from "./graphql-client.js";

/** One `LocationInsights` method of `locationId`'s actor; its JSON answer. */
export async function callInsightsActor(
  mesh: Mesh,
  locationId: string,
  method: "GetSummary" | "RequestRetrain",
  arg: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const edge = mesh.plan.apps.edge;
  const ports = {
    DAPR_HTTP_PORT: edge.daprHttp,
    DAPR_GRPC_PORT: edge.daprGrpc,
    DAPR_API_TOKEN: mesh.tokens.edge.daprApiToken,
  };
  return (await invokeActor(ports, "LocationInsights", locationId, method, arg)) as Record<string, unknown>;
}

/** A retrain of `locationId` now (owners' "refresh"): a model over the whole history recorded. */
export async function retrainNow(mesh: Mesh, locationId: string): Promise<void> {
  await callInsightsActor(mesh, locationId, "RequestRetrain", { dueInSeconds: 0 });
}

/** The part of a location's answer this helper reads: the AI's summary of it. */
export interface AiSummaryView {
  insights: { ordersSeen: number; lastTrainedAt: string | null } | null;
}

/**
 * A model over the whole published history: waits until the actor has recorded all `published`
 * orders, asks a retrain now and waits for it (a model fitted while the events were arriving is
 * kept up to 10 minutes). `read` gives the location as the test asks for it, or undefined while
 * the AI's answer is a degraded one; the answer returned is the retrained model's.
 */
export async function modelOverWholeHistory<T extends AiSummaryView>(
  mesh: Mesh,
  locationId: string,
  published: number,
  read: () => Promise<T | undefined>,
): Promise<T> {
  const seen = await eventually(
    "the actor recorded the whole history",
    async () => {
      const l = await read();
      return l?.insights?.ordersSeen === published ? l : undefined;
    },
    240_000,
  );
  await retrainNow(mesh, locationId);
  return eventually(
    "a model retrained over the whole history",
    async () => {
      const l = await read();
      return l && l.insights?.lastTrainedAt !== seen.insights?.lastTrainedAt ? l : undefined;
    },
    180_000,
  );
}
