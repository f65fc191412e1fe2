// Acting on recommendations through the edge on the real mesh: order history published to the
// orders topic, the location's AI actor fits its models, and owners and managers accept or
// dismiss what it recommends. A dismissed kind comes back less (fewer, lower priority), an
// accepted menu change carries a before/after measure of the item's sales, and every mistake
// (staff, another restaurant, an unknown or malformed id, no reason) is a typed error that
// records nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeClient, eventually } from "../support/graphql-client.js";
import { DEMO_LOCATION, ordersOf, publishHistory } from "../../bench/ai-history.js";

const LOCATION = DEMO_LOCATION;
const HISTORY_DAYS = 35;
const MENU_CHANGES = ["menu_plowhorse", "menu_puzzle", "slow_mover"];

const LIST = /* GraphQL */ `
  query ($id: ID!) {
    location(id: $id) {
      recommendations {
        id
        kind
        priority
        degraded
        status
        actedAt
        dismissReason
        outcome {
          itemId
          complete
          unitsChange
          before {
            from
            to
            days
            units
          }
          after {
            days
          }
        }
      }
    }
  }
`;
const ACCEPT = /* GraphQL */ `
  mutation ($id: ID!) {
    acceptRecommendation(id: $id) {
      id
      kind
      status
      actedAt
      outcome {
        itemId
        itemName
        complete
        unitsChange
        before {
          from
          to
          days
          units
          unitsPerDay
        }
        after {
          days
          units
        }
      }
    }
  }
`;
const DISMISS = /* GraphQL */ `
  mutation ($id: ID!, $reason: String!) {
    dismissRecommendation(id: $id, reason: $reason) {
      id
      kind
      status
      dismissReason
    }
  }
`;

interface Rec {
  id: string;
  kind: string;
  priority: string;
  degraded: boolean;
  status: string;
  actedAt: string | null;
  dismissReason: string | null;
  outcome: {
    itemId: string;
    complete: boolean;
    unitsChange: number | null;
    before: { from: string; to: string; days: number; units: number };
    after: { days: number };
  } | null;
}

describe("acting on recommendations through the edge", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let owner: ReturnType<typeof edgeClient>;
  /** Trà đá units per business day of the published history (one per order). */
  const unitsByDay = new Map<string, number>();

  before(async () => {
    process.env.EDGE_RATE_LIMIT_MAX = "1000000"; // the polls below are not what the limit is for
    mesh = await startTestMesh();
    owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    for (let k = 1; k <= HISTORY_DAYS; k++) {
      const day = ordersOf(k);
      unitsByDay.set(String(day[0]!.businessDay), day.length);
    }
    const published = await publishHistory(
      mesh.plan.apps.sales.daprHttp,
      HISTORY_DAYS,
      mesh.tokens.sales.daprApiToken,
    );
    // Fence: every order recorded by the actor (a busy machine redelivers some), then the model.
    await eventually(
      "every order recorded by the actor",
      async () => {
        const res = await owner<{ location: { insights: { ordersSeen: number } | null } | null }>(
          `query ($id: ID!) { location(id: $id) { insights { ordersSeen } } }`,
          { id: LOCATION },
        );
        return (res.data?.location?.insights?.ordersSeen ?? 0) >= published ? true : undefined;
      },
      180_000,
    );
    // The first question fits the models (in a worker process): ask until the model answers.
    await eventually(
      "the model's recommendations",
      async () => {
        const recs = await list();
        return recs.length > 0 && recs.every((r) => !r.degraded) ? recs : undefined;
      },
      240_000,
    );
  });
  after(async () => {
    await mesh?.stop();
  });

  async function list(as = owner): Promise<Rec[]> {
    const res = await as<{ location: { recommendations: Rec[] } | null }>(LIST, { id: LOCATION });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    return res.data?.location?.recommendations ?? [];
  }
  const codes = (res: { errors?: { extensions?: { code?: string } }[] }) =>
    (res.errors ?? []).map((e) => e.extensions?.code);

  test("every recommendation starts open, with an id that names its location", async () => {
    const recs = await list();
    assert.ok(recs.every((r) => r.status === "open" && r.actedAt === null && r.outcome === null));
    assert.ok(
      recs.every((r) => r.id.startsWith(`${LOCATION}/${r.kind}:`)),
      JSON.stringify(recs),
    );
  });

  test("mistakes are typed errors and record nothing", async () => {
    const before = await list();
    const someId = before[0]!.id;
    const staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" });
    const other = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    const cases: [string, Promise<{ errors?: { extensions?: { code?: string } }[] }>, string][] = [
      ["staff", staff(ACCEPT, { id: someId }), "FORBIDDEN"],
      ["another restaurant's owner", other(ACCEPT, { id: someId }), "NOT_FOUND"],
      ["an unknown id", owner(ACCEPT, { id: `${LOCATION}/menu_puzzle:no-such-item` }), "NOT_FOUND"],
      [
        "an unknown location",
        owner(ACCEPT, { id: `${DEMO.caPhe.quan1}/${someId.split("/")[1]}` }),
        "NOT_FOUND",
      ],
      ["a malformed id", owner(ACCEPT, { id: "menu_puzzle:x" }), "BAD_USER_INPUT"],
      ["a blank reason", owner(DISMISS, { id: someId, reason: "   " }), "BAD_USER_INPUT"],
      [
        "a reason over 500 characters",
        owner(DISMISS, { id: someId, reason: "x".repeat(501) }),
        "BAD_USER_INPUT",
      ],
    ];
    for (const [what, call, code] of cases) assert.deepEqual(codes(await call), [code], what);
    // Fence: the same list, every recommendation still open.
    assert.deepEqual(await list(), before);
  });

  test("a dismissed kind comes back less: fewer of it, at a lower priority", async () => {
    const before = await list();
    const kinds = new Map<string, Rec[]>();
    for (const r of before) kinds.set(r.kind, [...(kinds.get(r.kind) ?? []), r]);
    const [kind, ofKind] = [...kinds].find(([, rs]) => rs.length >= 2) ?? [];
    assert.ok(kind && ofKind, `a kind with two recommendations: ${JSON.stringify(before)}`);
    const manager = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "manager" });
    const res = await manager<{ dismissRecommendation: Rec }>(DISMISS, {
      id: ofKind[0]!.id,
      reason: "Quán đã chuẩn bị đủ",
    });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.deepEqual(res.data?.dismissRecommendation, {
      id: ofKind[0]!.id,
      kind,
      status: "dismissed",
      dismissReason: "Quán đã chuẩn bị đủ",
    });
    const after = await list();
    const dismissed = after.find((r) => r.id === ofKind[0]!.id);
    assert.equal(dismissed?.status, "dismissed");
    const stillOpen = after.filter((r) => r.kind === kind && r.status === "open");
    assert.deepEqual(
      stillOpen.map((r) => r.id),
      ofKind.slice(1, 3).map((r) => r.id),
    );
    const lower = { high: "medium", medium: "low", low: "low" } as Record<string, string>;
    for (const r of stillOpen)
      assert.equal(r.priority, lower[ofKind.find((o) => o.id === r.id)!.priority], JSON.stringify(r));
    // Other kinds are untouched.
    for (const r of after.filter((x) => x.kind !== kind && x.status === "open"))
      assert.equal(r.priority, before.find((b) => b.id === r.id)?.priority);
  });

  test("an accepted menu change is measured: the item's sales before, and after as days pass", async () => {
    const change = (await list()).find((r) => MENU_CHANGES.includes(r.kind) && r.status === "open");
    assert.ok(change, "a menu change among the recommendations");
    const res = await owner<{ acceptRecommendation: Rec & { outcome: { itemName: string } } }>(ACCEPT, {
      id: change.id,
    });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const accepted = res.data!.acceptRecommendation;
    assert.equal(accepted.status, "accepted");
    const outcome = accepted.outcome;
    assert.ok(outcome, "accepted menu changes are measured");
    assert.equal(outcome.itemId, change.id.split(":").at(-1));
    // Before: the 14 business days before today's, from the published history.
    assert.equal(outcome.before.days, 14);
    let units = 0;
    for (const [day, n] of unitsByDay)
      if (day >= outcome.before.from && day <= outcome.before.to && outcome.itemId === DEMO.phoBo.traDa)
        units += n;
    if (outcome.itemId === DEMO.phoBo.traDa) assert.equal(outcome.before.units, units);
    assert.ok(outcome.before.units > 0);
    // Accepted today: no whole day after it yet.
    assert.deepEqual([outcome.after.days, outcome.unitsChange, outcome.complete], [0, null, false]);

    // The same action again changes nothing; the opposite one is a CONFLICT.
    const again = await owner<{ acceptRecommendation: Rec }>(ACCEPT, { id: change.id });
    assert.equal(again.data?.acceptRecommendation.actedAt, accepted.actedAt);
    const conflict = await owner(DISMISS, { id: change.id, reason: "đổi ý" });
    assert.deepEqual(codes(conflict), ["CONFLICT"]);
    const shown = (await list()).find((r) => r.id === change.id);
    assert.equal(shown?.status, "accepted");
    assert.equal(shown?.outcome?.before.units, outcome.before.units);
  });
});
