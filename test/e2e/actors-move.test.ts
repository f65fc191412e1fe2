// Actors move between two ai replicas with their state: the replica hosting a location's actor
// is killed (and not restarted); its sidecar's app health check fails, it withdraws the actor
// type from placement, and the next call activates the actor on the other replica, which loads
// the same state from the actor state store (PostgreSQL through Dapr). Fences, no sleeps: the
// host is read from each sidecar's metadata before and after, and the call is retried until the
// other replica answers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { asApp, portsOf, startTestMesh } from "../support/mesh.js";
import { eventually } from "../support/graphql-client.js";
import { DEMO_LOCATION, publishHistory } from "../../bench/ai-history.js";

const ACTOR_TYPE = "LocationInsights";
const HISTORY_DAYS = 7;

interface Summary {
  ordersSeen: number;
  trainings: number;
}

describe("actors move between two ai replicas with their state", { timeout: 900_000 }, () => {
  let mesh: Mesh;

  /** An actor call through the edge's sidecar, as the edge makes it (placement picks the host). */
  const actorCall = async (method: string, body: unknown, timeoutMs = 10_000) => {
    const port = mesh.plan.apps.edge.daprHttp;
    const res = await fetch(
      `http://127.0.0.1:${port}/v1.0/actors/${ACTOR_TYPE}/${DEMO_LOCATION}/method/${method}`,
      {
        method: "POST",
        headers: { "content-type": "application/json", ...asApp(mesh, "edge") },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      },
    );
    const text = await res.text();
    assert.ok(res.ok, `${method}: ${res.status} ${text}`);
    return JSON.parse(text) as Summary;
  };

  /** How many LocationInsights actors are active on one ai replica (its sidecar's metadata). */
  const activeOn = async (replica: number): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${portsOf(mesh, "ai", replica).daprHttp}/v1.0/metadata`, {
      headers: asApp(mesh, "ai"),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(res.status, 200);
    const meta = (await res.json()) as {
      actorRuntime?: { activeActors?: { type: string; count: number }[] };
      actors?: { type: string; count: number }[];
    };
    const active = meta.actorRuntime?.activeActors ?? meta.actors ?? [];
    return active.find((a) => a.type === ACTOR_TYPE)?.count ?? 0;
  };

  before(async () => {
    process.env.EDGE_RATE_LIMIT_MAX = "1000000";
    mesh = await startTestMesh({ replicas: { ai: 2 } });
  });
  after(async () => {
    await mesh?.stop();
  });

  test("the host replica is killed: the actor answers from the other with the same state", async (t) => {
    // Real pub/sub: a week of orders through sales' sidecar → ai's subscription → the actor.
    const published = await publishHistory(
      mesh.plan.apps.sales.daprHttp,
      HISTORY_DAYS,
      mesh.tokens.sales.daprApiToken,
    );
    const before = await eventually(
      "every order recorded by the actor",
      async () => {
        const s = await actorCall("GetSummary", {});
        return s.ordersSeen >= published ? s : undefined;
      },
      180_000,
    );
    assert.equal(before.ordersSeen, published, "each order recorded once");

    const hosts = [await activeOn(1), await activeOn(2)];
    t.diagnostic(`active ${ACTOR_TYPE} actors: ai ${hosts[0]}, ai-2 ${hosts[1]}`);
    assert.equal(hosts[0]! + hosts[1]!, 1, "one activation of the location's actor, on one replica");
    const host = hosts[0] === 1 ? 1 : 2;
    const other = 3 - host;

    await mesh.killApp("ai", host);
    const began = Date.now();
    try {
      const moved = await eventually(
        "the actor answers again",
        async () => {
          try {
            return await actorCall("GetSummary", {}, 3_000);
          } catch {
            return undefined; // still placed on the dead replica: its sidecar cannot reach the app
          }
        },
        120_000,
      );
      t.diagnostic(`the actor answered from ai-${other} ${Date.now() - began} ms after the kill`);
      assert.deepEqual(
        { ordersSeen: moved.ordersSeen, trainings: moved.trainings },
        { ordersSeen: before.ordersSeen, trainings: before.trainings },
        "the state came along",
      );
      assert.equal(await activeOn(other), 1, "the other replica hosts it now");

      // It keeps working there: another week of orders (new ones) is added to that state.
      const more = await publishHistory(
        mesh.plan.apps.sales.daprHttp,
        HISTORY_DAYS,
        mesh.tokens.sales.daprApiToken,
      );
      const after = await eventually(
        "the new orders recorded on the other replica",
        async () => {
          const s = await actorCall("GetSummary", {});
          return s.ordersSeen >= before.ordersSeen + more ? s : undefined;
        },
        180_000,
      );
      assert.equal(after.ordersSeen, before.ordersSeen + more, "added to the state it came with");
    } finally {
      await mesh.restartApp("ai", host);
    }
  });
});
