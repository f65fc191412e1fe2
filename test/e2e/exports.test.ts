// CSV exports through the edge on the real mesh (issue 17, item 4): requestExport answers a
// short-lived signed link; the edge streams the file from sales (orders, order lines) and from the
// dashboard's read model (daily summaries, item sales), a slice of days at a time: UTF-8 with BOM,
// Vietnamese text quoted, VND as integers, one header. Scope as every read (staff: their branch;
// another tenant: nothing); bad input, expired and forged links are typed errors serving nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import jwt from "jsonwebtoken";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import {
  DEMO,
  demoPhone,
  edgeClient,
  eventually,
  loginAfterChange,
  type GraphQLResponse,
} from "../support/graphql-client.js";
import { scrapeMetrics, sumOf, type Sample } from "../support/metrics.js";

const HOAN_KIEM = DEMO.phoBo.hoanKiem;
const CAU_GIAY = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02";
const BOM = [0xef, 0xbb, 0xbf];

const REQUEST = /* GraphQL */ `
  mutation ($input: ExportInput!) {
    requestExport(input: $input) {
      url
      path
      expiresAt
    }
  }
`;

type Gql = ReturnType<typeof edgeClient>;
interface Link {
  url: string;
  path: string;
  expiresAt: string;
}

const shift = (day: string, days: number) =>
  new Date(Date.parse(day) + days * 86_400_000).toISOString().slice(0, 10);

async function download(url: string) {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get("content-type") ?? "", body };
}

/** The rows of a CSV download as objects by header, after checking the BOM and the one header. */
function rowsOf(body: Buffer): Record<string, string>[] {
  assert.deepEqual([...body.subarray(0, 3)], BOM, "starts with the UTF-8 BOM");
  assert.equal(body.indexOf(Buffer.from(BOM), 3), -1, "one BOM only");
  return parse(body.toString("utf8"), { bom: true, columns: true }) as Record<string, string>[];
}

describe("CSV exports through signed links", { timeout: 300_000 }, () => {
  let mesh: Mesh;
  let owner: Gql;
  let staff: Gql;
  let stranger: Gql;
  let today = "";
  const orders: { id: string; totalVnd: number }[] = [];

  const request = async (gql: Gql, input: Record<string, unknown>) =>
    gql<{ requestExport: Link }>(REQUEST, {
      input: { locationId: HOAN_KIEM, from: today, to: today, ...input },
    });

  before(async () => {
    mesh = await startTestMesh();
    owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" });
    stranger = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    for (const [quantity, paid] of [
      [2, true],
      [1, false],
      [3, true],
    ] as const) {
      const res = await owner<{ createOrder: { id: string; totalVnd: number; businessDay: string } }>(
        `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id totalVnd businessDay } }`,
        {
          input: {
            locationId: HOAN_KIEM,
            idempotencyKey: randomUUID(),
            paymentMethod: "cash",
            paid,
            lines: [
              { itemId: DEMO.phoBo.phoTai, quantity },
              { itemId: DEMO.phoBo.traDa, quantity: 1 },
            ],
          },
        },
      );
      assert.ok(res.data?.createOrder, JSON.stringify(res.errors));
      today = res.data.createOrder.businessDay;
      orders.push(res.data.createOrder);
    }
    // The read model has counted them (the daily summary and item sales are the dashboard's).
    await eventually(
      "the dashboard counts the orders",
      async () => {
        const r = await owner<{ location: { today: { orders: number } } }>(
          `query ($id: ID!) { location(id: $id) { today { orders } } }`,
          { id: HOAN_KIEM },
        );
        return r.data?.location.today.orders === orders.length ? true : undefined;
      },
      90_000,
    );
  });
  after(() => mesh?.stop());

  test("orders and order lines from sales: every order, VND integers, Vietnamese names intact", async () => {
    // Three days: three slices (a day each), one BOM and one header (rowsOf).
    const link = await request(owner, { kind: "ORDERS", from: shift(today, -2) });
    assert.ok(link.data?.requestExport, JSON.stringify(link.errors));
    assert.ok(link.data.requestExport.url.startsWith(new URL(mesh.edgeUrl).origin));
    assert.ok(Date.parse(link.data.requestExport.expiresAt) > Date.now());
    const file = await download(link.data.requestExport.url);
    assert.equal(file.status, 200);
    assert.match(file.type, /^text\/csv; charset=utf-8/);
    const rows = rowsOf(file.body);
    assert.deepEqual(
      rows.map((r) => [r.order_id, Number(r.total_vnd)]).sort(),
      orders.map((o) => [o.id, o.totalVnd]).sort(),
    );
    for (const r of rows) assert.match(r.total_vnd ?? "", /^\d+$/, "VND as an integer");
    // The order's time again in the location's zone (Asia/Ho_Chi_Minh: +07:00, no summer time),
    // the same instant as the UTC column.
    const zone = await owner<{ location: { timeZone: string } }>(
      `query ($id: ID!) { location(id: $id) { timeZone } }`,
      { id: HOAN_KIEM },
    );
    assert.equal(zone.data?.location.timeZone, "Asia/Ho_Chi_Minh", JSON.stringify(zone.errors));
    for (const r of rows) {
      assert.match(r.created_at ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.match(r.created_at_local ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00$/);
      assert.equal(Date.parse(r.created_at_local ?? ""), Date.parse(r.created_at ?? ""), "the same instant");
    }

    const linesLink = await request(owner, { kind: "ORDER_LINES" });
    const lines = rowsOf((await download(linesLink.data?.requestExport.url ?? "")).body);
    assert.equal(lines.length, 6);
    const localOf = new Map(rows.map((r) => [r.order_id, r.created_at_local]));
    for (const l of lines)
      assert.equal(l.created_at_local, localOf.get(l.order_id ?? ""), "a line shows its order's time");
    assert.deepEqual([...new Set(lines.map((l) => l.item_name))].sort(), ["Phở bò tái", "Trà đá"]);
    const sum = lines.reduce((s, l) => s + Number(l.line_total_vnd), 0);
    assert.equal(
      sum,
      orders.reduce((s, o) => s + o.totalVnd, 0),
    );
  });

  test("daily summaries and item sales from the dashboard's read model match its day report", async () => {
    const report = await owner<{
      location: {
        today: { netRevenue: number; orders: number; topItems: { name: string; quantity: number }[] };
      };
    }>(
      `query ($id: ID!) { location(id: $id) { today { netRevenue orders topItems(limit: 50) { name quantity } } } }`,
      {
        id: HOAN_KIEM,
      },
    );
    const day = report.data?.location.today;
    assert.ok(day, JSON.stringify(report.errors));
    // 40 days: two slices (31 days each at most), one header, the one day with orders.
    const summaryLink = await request(owner, { kind: "DAILY_SUMMARIES", from: shift(today, -39) });
    const summaries = rowsOf((await download(summaryLink.data?.requestExport.url ?? "")).body);
    assert.deepEqual(
      summaries.map((r) => [r.business_day, Number(r.orders), Number(r.net_revenue_vnd)]),
      [[today, day.orders, day.netRevenue]],
    );
    const itemsLink = await request(owner, { kind: "ITEM_SALES" });
    const items = rowsOf((await download(itemsLink.data?.requestExport.url ?? "")).body);
    assert.deepEqual(
      items.map((r) => [r.item_name, Number(r.quantity)]).sort(),
      day.topItems.map((t) => [t.name, t.quantity]).sort(),
    );
  });

  test("scope: staff export their branch only; another tenant's location is not found", async () => {
    const own = await request(staff, { kind: "ORDERS" });
    assert.ok(own.data?.requestExport, JSON.stringify(own.errors));
    assert.equal(rowsOf((await download(own.data.requestExport.url)).body).length, orders.length);
    const elsewhere = await request(staff, { kind: "ORDERS", locationId: CAU_GIAY });
    assert.equal(elsewhere.errors?.[0]?.extensions?.code, "FORBIDDEN");
    assert.equal(elsewhere.data ?? null, null);
    const foreign = await request(stranger, { kind: "ORDERS" });
    assert.equal(foreign.errors?.[0]?.extensions?.code, "NOT_FOUND");
    assert.equal(foreign.data ?? null, null);
  });

  test("metrics: rows and bytes per kind at the owning service, downloads, bytes and outcome at the edge", async () => {
    const edgeMetrics = () => scrapeMetrics(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/metrics`);
    const salesMetrics = () => scrapeMetrics(`http://127.0.0.1:${mesh.plan.apps.sales.ops}/metrics`);
    const [edgeBefore, salesBefore] = await Promise.all([edgeMetrics(), salesMetrics()]);
    const link = await request(owner, { kind: "ORDERS" });
    const file = await download(link.data?.requestExport.url ?? "");
    assert.equal(file.status, 200);
    const refused = await download(`${new URL(mesh.edgeUrl).origin}/api/v1/exports/not-a-link`);
    assert.equal(refused.status, 401);
    const [edgeAfter, salesAfter] = await Promise.all([edgeMetrics(), salesMetrics()]);
    const grew = (before: Sample[], after: Sample[], name: string, labels: Record<string, string>) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    const orders = { kind: "ORDERS" };
    assert.equal(grew(edgeBefore, edgeAfter, "edge_export_downloads_total", { ...orders, outcome: "ok" }), 1);
    assert.equal(grew(edgeBefore, edgeAfter, "edge_export_bytes_total", orders), file.body.length);
    assert.equal(
      grew(edgeBefore, edgeAfter, "edge_export_duration_seconds_count", { ...orders, outcome: "ok" }),
      1,
    );
    // A forged link is not an export of any kind: nothing counted as a download.
    assert.equal(grew(edgeBefore, edgeAfter, "edge_export_downloads_total", {}), 1);
    // The service wrote one slice of this one day: its rows and the same bytes.
    const kind = { kind: "orders" };
    assert.equal(grew(salesBefore, salesAfter, "csv_export_rows_total", kind), rowsOf(file.body).length);
    assert.equal(grew(salesBefore, salesAfter, "csv_export_bytes_total", kind), file.body.length);
    assert.equal(
      grew(salesBefore, salesAfter, "csv_export_slice_duration_seconds_count", { ...kind, outcome: "ok" }),
      1,
    );
  });

  test("bad input: typed errors and no link", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["a range over a year", { kind: "ORDERS", from: shift(today, -366) }, "to"],
      ["from after to", { kind: "ORDERS", from: shift(today, 1) }, "from"],
      ["not a date", { kind: "ORDERS", from: "hôm qua" }, "from"],
      ["not a location id", { kind: "ORDERS", locationId: "hoan-kiem" }, "locationId"],
    ];
    for (const [what, input, field] of cases) {
      const res: GraphQLResponse<{ requestExport: Link }> = await request(owner, input);
      assert.equal(
        res.errors?.[0]?.extensions?.code,
        "BAD_USER_INPUT",
        `${what}: ${JSON.stringify(res.errors)}`,
      );
      assert.equal((res.errors?.[0]?.extensions as { field?: string } | undefined)?.field, field, what);
      assert.equal(res.data ?? null, null, what);
    }
    const unknownKind = await request(owner, { kind: "PAYROLL" });
    assert.equal(unknownKind.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  test("expired, forged or altered links are typed 401s and serve nothing", async () => {
    const link = await request(owner, { kind: "ORDERS" });
    const url = new URL(link.data?.requestExport.url ?? "");
    const token = url.pathname.split("/").pop() ?? "";
    const origin = url.origin;
    // The harness reads the run's dev key (as an operator could) to sign what the edge would,
    // only expired: a link past its expiry is refused however genuine its signature.
    const secrets = JSON.parse(readFileSync(path.join(mesh.runDir, "secrets.json"), "utf8")) as Record<
      string,
      string
    >;
    const key = secrets["edge-export-signing-key"] ?? "";
    assert.ok(key);
    const claims = jwt.decode(token) as Record<string, unknown>;
    const expired = jwt.sign(
      { ...claims, iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 60 },
      key,
      {
        algorithm: "HS256",
      },
    );
    const [head = "", payload = "", signature = ""] = token.split(".");
    const otherTenant = Buffer.from(
      JSON.stringify({ ...claims, tid: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02" }),
    ).toString("base64url");
    const cases: [string, string, string][] = [
      ["expired", expired, "TOKEN_EXPIRED"],
      ["signed with another key", jwt.sign(claims, "not-the-key", { algorithm: "HS256" }), "TOKEN_INVALID"],
      ["claims altered (another tenant)", `${head}.${otherTenant}.${signature}`, "TOKEN_INVALID"],
      ["signature altered", `${head}.${payload}.${signature.slice(0, -2)}AA`, "TOKEN_INVALID"],
      [
        "unsigned (alg none)",
        `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${payload}.`,
        "TOKEN_INVALID",
      ],
      ["junk", "not-a-link", "TOKEN_INVALID"],
    ];
    for (const [what, t, code] of cases) {
      const file = await download(`${origin}/api/v1/exports/${t}`);
      assert.equal(file.status, 401, what);
      assert.match(file.type, /application\/json/, what);
      const body = JSON.parse(file.body.toString("utf8")) as { error: { code: string } };
      assert.equal(body.error.code, code, what);
    }
    // The genuine link still works (it was never used up by the refusals).
    assert.equal((await download(url.href)).status, 200);
  });
  describe("whole-chain export (owners and managers)", () => {
    const CHAIN_REQUEST = /* GraphQL */ `
      mutation ($input: ChainExportInput!) {
        requestChainExport(input: $input) {
          url
          path
          expiresAt
        }
      }
    `;
    const requestChain = (gql: Gql, input: Record<string, unknown> = {}) =>
      gql<{ requestChainExport: Link }>(CHAIN_REQUEST, {
        input: { kind: "ORDERS", from: today, to: today, ...input },
      });
    let cauGiayOrder = "";
    let names = new Map<string, string>();

    before(async () => {
      const res = await owner<{ createOrder: { id: string } }>(
        `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }`,
        {
          input: {
            locationId: CAU_GIAY,
            idempotencyKey: randomUUID(),
            paymentMethod: "cash",
            paid: true,
            lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
          },
        },
      );
      assert.ok(res.data?.createOrder, JSON.stringify(res.errors));
      cauGiayOrder = res.data.createOrder.id;
      const locations = await owner<{ locations: { id: string; name: string }[] }>(
        `{ locations { id name } }`,
      );
      names = new Map(locations.data?.locations.map((l) => [l.id, l.name]));
      assert.equal(names.size, 2, JSON.stringify(locations));
    });

    test("owner: one CSV, every branch by name, each row naming its branch", async () => {
      const link = await requestChain(owner);
      assert.ok(link.data?.requestChainExport, JSON.stringify(link.errors));
      const file = await download(link.data.requestChainExport.url);
      assert.equal(file.status, 200);
      const rows = rowsOf(file.body); // one BOM, one header across both branches
      const byBranch = [...names].sort(([, a], [, b]) => a.localeCompare(b, "vi")).map(([id]) => id);
      assert.deepEqual(
        [...new Set(rows.map((r) => r.location_id))],
        byBranch,
        "branch after branch, by name",
      );
      for (const r of rows) assert.equal(r.location_name, names.get(r.location_id ?? ""));
      assert.deepEqual(
        rows.map((r) => [r.location_id, r.order_id]).sort(),
        [...orders.map((o) => [HOAN_KIEM, o.id]), [CAU_GIAY, cauGiayOrder]].sort(),
      );
      assert.equal(Object.keys(rows[0] ?? {})[0], "location_id");
      for (const r of rows) assert.match(r.created_at_local ?? "", /\+07:00$/);
      // The read model's kinds too: the daily summaries of both branches.
      const summaries = await requestChain(owner, { kind: "DAILY_SUMMARIES" });
      const days = rowsOf((await download(summaries.data?.requestChainExport.url ?? "")).body);
      assert.ok(days.every((d) => names.has(d.location_id ?? "")));
    });

    test("scope: staff FORBIDDEN; another tenant's owner gets only their own branches", async () => {
      const refused = await requestChain(staff);
      assert.equal(refused.errors?.[0]?.extensions?.code, "FORBIDDEN");
      assert.equal(refused.data ?? null, null);
      const foreign = await requestChain(stranger);
      assert.ok(foreign.data?.requestChainExport, JSON.stringify(foreign.errors));
      const rows = rowsOf((await download(foreign.data.requestChainExport.url)).body);
      assert.ok(
        rows.every((r) => r.location_id === DEMO.caPhe.quan1),
        JSON.stringify(rows),
      );
      assert.ok(!rows.some((r) => orders.some((o) => o.id === r.order_id)));
    });

    test("bad input: typed errors and no link", async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ["a range over a year", { from: shift(today, -366) }, "to"],
        ["from after to", { from: shift(today, 1) }, "from"],
        ["not a date", { to: "ngày mai" }, "to"],
      ];
      for (const [what, input, field] of cases) {
        const res = await requestChain(owner, input);
        assert.equal(
          res.errors?.[0]?.extensions?.code,
          "BAD_USER_INPUT",
          `${what}: ${JSON.stringify(res.errors)}`,
        );
        assert.equal((res.errors?.[0]?.extensions as { field?: string } | undefined)?.field, field, what);
        assert.equal(res.data ?? null, null, what);
      }
    });

    // Last: it narrows the demo manager to one branch for the rest of the run.
    test("a manager limited to one branch exports that branch only", async () => {
      const phone = demoPhone(DEMO.phoBo.slug, "manager")!;
      const members = await owner<{ members: { user: { id: string; phone: string } }[] }>(
        `{ members { user { id phone } } }`,
      );
      const userId = members.data?.members.find((m) => m.user.phone === phone)?.user.id;
      assert.ok(userId, JSON.stringify(members));
      const changed = await owner(
        `mutation ($input: MemberRoleInput!) { setMemberRole(input: $input) { role } }`,
        { input: { userId, role: "MANAGER", locationIds: [HOAN_KIEM] } },
      );
      assert.equal(changed.errors, undefined, JSON.stringify(changed.errors));
      // A token issued after the change carries the new scope (earlier ones are refused).
      const tokens = await loginAfterChange(mesh.edgeUrl, DEMO.phoBo.slug, phone);
      const link = await eventually("an export in the new scope", async () => {
        const r = await fetch(mesh.edgeUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-tenant": DEMO.phoBo.slug,
            authorization: `Bearer ${tokens.accessToken}`,
          },
          body: JSON.stringify({
            query: CHAIN_REQUEST,
            variables: { input: { kind: "ORDERS", from: today, to: today } },
          }),
        });
        const body = (await r.json()) as GraphQLResponse<{ requestChainExport: Link }>;
        return body.errors?.some((e) => e.extensions?.code === "TOKEN_INVALID") ? undefined : body;
      });
      assert.ok(link.data?.requestChainExport, JSON.stringify(link.errors));
      const rows = rowsOf((await download(link.data.requestChainExport.url)).body);
      assert.deepEqual(rows.map((r) => r.order_id).sort(), orders.map((o) => o.id).sort());
      assert.ok(rows.every((r) => r.location_id === HOAN_KIEM));
    });
  });
});
