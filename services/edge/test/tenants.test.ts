import { test } from "node:test";
import assert from "node:assert/strict";
import { tenantSlugOf } from "../src/tenants.js";

test("the tenant comes from the first label of the Host, or from X-Tenant", () => {
  assert.equal(tenantSlugOf("pho-bo-hanoi.localhost:4000", null), "pho-bo-hanoi");
  assert.equal(tenantSlugOf("pho-bo-hanoi.lsp.vn", null), "pho-bo-hanoi");
  assert.equal(tenantSlugOf("localhost:4000", null), null);
  assert.equal(tenantSlugOf("127.0.0.1:4000", null), null);
  assert.equal(tenantSlugOf("www.lsp.vn", null), null);
  assert.equal(tenantSlugOf("localhost:4000", "Ca-Phe-Sai-Gon"), "ca-phe-sai-gon");
});
