// Feature flag evaluation (issue 16): precedence of kill switch, location, tenant, rollout and
// default; the rollout's stability and its share over 1,000 tenants; the table's handling of
// store items (versions, inherit, malformed values).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FlagTable } from "./index.js";
import { evaluateFlag, parseItemKey, rolloutBucket, ruleItemKey, type FlagDefinition } from "@lsp/contracts";

const definition = (over: Partial<FlagDefinition> = {}): FlagDefinition => ({
  description: "d",
  ownerControllable: true,
  default: false,
  killSwitch: false,
  rolloutPercent: null,
  ...over,
});

// Deterministic tenant ids (UUID-shaped), so that the test's figures never vary between runs.
const tenantIds = (n: number, salt = "t") =>
  Array.from({ length: n }, (_, i) => {
    const h = createHash("sha256").update(`${salt}${i}`).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });

test("precedence: kill switch > location > tenant > rollout > default; unknown is off", () => {
  const t = tenantIds(1)[0] ?? "";
  assert.equal(evaluateFlag("f", t, { definition: undefined, tenantRule: true }), false);
  assert.equal(evaluateFlag("f", t, { definition: definition({ default: true }) }), true);
  assert.equal(evaluateFlag("f", t, { definition: definition({ default: false }) }), false);
  assert.equal(
    evaluateFlag("f", t, {
      definition: definition({ killSwitch: true, default: true }),
      tenantRule: true,
      locationRule: true,
    }),
    false,
  );
  assert.equal(evaluateFlag("f", t, { definition: definition(), tenantRule: true }), true);
  assert.equal(evaluateFlag("f", t, { definition: definition({ default: true }), tenantRule: false }), false);
  assert.equal(
    evaluateFlag("f", t, { definition: definition(), tenantRule: true, locationRule: false }),
    false,
  );
  assert.equal(
    evaluateFlag("f", t, { definition: definition(), tenantRule: false, locationRule: true }),
    true,
  );
  assert.equal(evaluateFlag("f", t, { definition: definition({ rolloutPercent: 100 }) }), true);
  assert.equal(evaluateFlag("f", t, { definition: definition({ default: true, rolloutPercent: 0 }) }), false);
  assert.equal(
    evaluateFlag("f", t, { definition: definition({ rolloutPercent: 0 }), tenantRule: true }),
    true,
  );
});

test("rollout over 1,000 tenants: stable, close to the percentage, only grows, differs per flag", () => {
  const tenants = tenantIds(1000);
  for (const percent of [1, 10, 25, 50, 90]) {
    const on = tenants.filter((t) => rolloutBucket("ai.forecast", t) < percent).length;
    // Binomial(1000, p): ±3 standard deviations, at most ±48 at p = 0.5.
    const sd = Math.sqrt(1000 * (percent / 100) * (1 - percent / 100));
    assert.ok(Math.abs(on - percent * 10) <= 3 * sd + 1, `${percent}%: ${on} of 1000`);
  }
  for (const t of tenants.slice(0, 50)) {
    assert.equal(rolloutBucket("ai.forecast", t), rolloutBucket("ai.forecast", t));
    const b = rolloutBucket("ai.forecast", t);
    assert.ok(Number.isInteger(b) && b >= 0 && b < 100);
  }
  const at10 = new Set(tenants.filter((t) => rolloutBucket("x", t) < 10));
  const at20 = new Set(tenants.filter((t) => rolloutBucket("x", t) < 20));
  for (const t of at10) assert.ok(at20.has(t));
  const a = tenants.filter((t) => rolloutBucket("ai.forecast", t) < 10);
  const b = new Set(tenants.filter((t) => rolloutBucket("ai.recommendations", t) < 10));
  assert.ok(a.filter((t) => b.has(t)).length < a.length / 2, "two flags roll out to different tenants");
});

test("item keys: rules carry UUIDs without dashes (the store's key alphabet) and parse back", () => {
  const [tenant = "", location = ""] = tenantIds(2, "k");
  const key = ruleItemKey("ai.forecast", "tenant", tenant);
  assert.match(key, /^[a-zA-Z0-9./_]*$/);
  assert.deepEqual(parseItemKey(key), { flag: "ai.forecast", kind: "tenant", id: tenant });
  assert.deepEqual(parseItemKey(ruleItemKey("f", "location", location)), {
    flag: "f",
    kind: "location",
    id: location,
  });
  assert.deepEqual(parseItemKey("ai.forecast"), { flag: "ai.forecast", kind: "definition" });
  assert.equal(parseItemKey("f/tenant/xyz"), undefined);
  assert.equal(parseItemKey("f/other/0123456789abcdef0123456789abcdef"), undefined);
});

test("table: applies items by version, inherit removes a rule, malformed items keep the last good value", () => {
  const [tenant = "", other = "", location = ""] = tenantIds(3, "table");
  const table = new FlagTable();
  const heard: string[][] = [];
  table.onChange((flags) => heard.push([...flags]));
  table.apply({ "ai.forecast": { value: JSON.stringify(definition({ default: true })), version: "1" } });
  assert.equal(table.isEnabled("ai.forecast", { tenantId: tenant }), true);
  table.apply({ [ruleItemKey("ai.forecast", "tenant", tenant)]: { value: "off", version: "2" } });
  assert.equal(table.isEnabled("ai.forecast", { tenantId: tenant }), false);
  assert.equal(table.isEnabled("ai.forecast", { tenantId: other }), true, "other tenants unaffected");
  table.apply({ [ruleItemKey("ai.forecast", "location", location)]: { value: "on", version: "3" } });
  assert.equal(table.isEnabled("ai.forecast", { tenantId: tenant, locationId: location }), true);
  // An older snapshot item does not undo a newer change.
  table.apply({ [ruleItemKey("ai.forecast", "tenant", tenant)]: { value: "on", version: "1" } });
  assert.equal(table.isEnabled("ai.forecast", { tenantId: tenant }), false);
  table.apply({ [ruleItemKey("ai.forecast", "tenant", tenant)]: { value: "inherit", version: "4" } });
  assert.equal(table.isEnabled("ai.forecast", { tenantId: tenant }), true);
  table.apply({ "ai.forecast": { value: "{not json", version: "5" } });
  assert.equal(table.isEnabled("ai.forecast", { tenantId: tenant }), true);
  assert.deepEqual(table.evaluateAll({ tenantId: tenant }), [
    { key: "ai.forecast", enabled: true, description: "d", ownerControllable: true },
  ]);
  assert.deepEqual(heard, [["ai.forecast"], ["ai.forecast"], ["ai.forecast"], ["ai.forecast"]]);
});
