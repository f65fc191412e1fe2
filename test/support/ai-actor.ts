// A location's AI actor called as the edge calls it: through the edge's sidecar with the edge's
// token, by @lsp/dapr's typed client (no hand-built sidecar URL). For what the edge does not
// expose: a retrain asked now, the actor's own summary.
import { invokeActor } from "@lsp/dapr";
import type { Mesh } from "../../scripts/mesh/mesh.js";

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
