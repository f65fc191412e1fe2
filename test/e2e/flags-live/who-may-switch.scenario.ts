// Who may switch a flag: managers and staff nothing, owners only owner-controllable flags, the
// platform's CLI the rest; a refused change writes nothing and every change is audited.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, edgeClient } from "../../support/graphql-client.js";
import { FLAGS_FIELDS, type Flag, type FlagsLiveMesh } from "../../support/flags-live.js";

export function whoMaySwitchScenarios(h: FlagsLiveMesh): void {
  test("who may switch: managers and staff are refused and nothing is written; owners only owner-controllable flags; every change audited", async () => {
    const { mesh, admin, flags } = h;
    const auditRows = async () =>
      Number((await admin.query("SELECT count(*)::int AS n FROM auth.feature_flag_audit")).rows[0].n);
    const storedItems = async () =>
      JSON.stringify(
        (await admin.query("SELECT key, value, version FROM auth.feature_flags ORDER BY key")).rows,
      );
    const storedBefore = await storedItems();
    const auditBefore = await auditRows();
    const MUTATION = `mutation ($key: String!, $on: Boolean) { setFeatureFlag(key: $key, enabled: $on) { current changed } }`;
    for (const role of ["manager", "staff"] as const) {
      const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role });
      const r = await gql(MUTATION, { key: "dashboard.preview", on: true });
      assert.equal(r.errors?.[0]?.extensions?.code, "FORBIDDEN", `${role}: ${JSON.stringify(r)}`);
      const flagsOf = await gql<{ featureFlags: Flag[] }>(`{ featureFlags { ${FLAGS_FIELDS} } }`);
      assert.ok(
        flagsOf.data?.featureFlags.every((f) => !f.canChange),
        `${role} can change nothing`,
      );
    }
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const platformFlag = await owner(MUTATION, { key: "payments.vnpay", on: false });
    assert.equal(platformFlag.errors?.[0]?.extensions?.code, "FORBIDDEN");
    const unknown = await owner(MUTATION, { key: "no.such.flag", on: true });
    assert.equal(unknown.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    assert.equal(await storedItems(), storedBefore, "no refused change wrote an item");
    assert.equal(await auditRows(), auditBefore, "no refused change wrote an audit row");

    const ok = await owner<{ setFeatureFlag: { current: string; changed: boolean } }>(MUTATION, {
      key: "dashboard.preview",
      on: true,
    });
    assert.deepEqual(ok.data?.setFeatureFlag, { current: "on", changed: true }, JSON.stringify(ok.errors));
    const audit = await owner<{
      featureFlagAudit: { actor: string; actorRole: string; previous: string | null; current: string }[];
    }>(`{ featureFlagAudit(key: "dashboard.preview") { actor actorRole previous current } }`);
    const latest = audit.data?.featureFlagAudit[0];
    assert.match(latest?.actor ?? "", /^user:/);
    assert.deepEqual(
      { role: latest?.actorRole, previous: latest?.previous, current: latest?.current },
      {
        role: "owner",
        previous: null,
        current: "on",
      },
    );
    const listed = await flags("list", "--tenant", DEMO.caPhe.slug);
    assert.match(listed.stdout, /^payments\.vnpay: default on — /m);
    assert.match(listed.stdout, /^ {4}tenant 7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02: on$/m);
    assert.doesNotMatch(listed.stdout, /tenant 7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01/, "only Cà Phê's rules");
    await assert.rejects(
      flags("set", "payments.vnpay", "maybe", "--tenant", DEMO.caPhe.slug),
      /expected on\|off/,
    );
    const { stdout } = await flags("audit", "payments.vnpay");
    assert.match(stdout, /platform:e2e \(platform\) tenant 7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02: off → on/);
  });
}
