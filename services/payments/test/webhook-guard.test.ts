// The limits that keep junk webhooks from delaying genuine ones, and the audit payload bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AUDIT_PAYLOAD_MAX_BYTES, TokenBuckets, auditPayload, sourceOf } from "../src/webhook-guard.js";

test("token buckets: a burst, then the rate; keys are independent", () => {
  const b = new TokenBuckets({ ratePerSecond: 2, burst: 3 });
  const t0 = 1_000_000;
  assert.deepEqual(
    [1, 2, 3, 4].map(() => b.take("a", 1, t0)),
    [true, true, true, false],
  );
  assert.equal(b.take("b", 1, t0), true, "another key has its own bucket");
  assert.equal(b.take("a", 1, t0 + 499), false, "just under one token refilled");
  assert.equal(b.take("a", 1, t0 + 500), true, "2/s: one token after 500 ms");
  assert.equal(b.take("a", 1, t0 + 60_000), true);
  assert.equal(b.take("a", 3, t0 + 60_000), false, "never more than the burst");
});

test("token buckets: has() looks without taking", () => {
  const b = new TokenBuckets({ ratePerSecond: 1, burst: 1 });
  assert.equal(b.has("k", 0), true);
  assert.equal(b.has("k", 0), true);
  b.charge("k", 1, 0);
  assert.equal(b.has("k", 0), false);
});

test("token buckets: a charge after the fact (a rejected notice) runs the key into debt, bounded by one burst", () => {
  const b = new TokenBuckets({ ratePerSecond: 1, burst: 4 });
  const t0 = 5_000;
  assert.equal(b.take("junk", 1, t0), true);
  for (let i = 0; i < 10; i++) b.charge("junk", 4, t0);
  assert.equal(b.take("junk", 1, t0 + 4_000), false, "-4 + 4 s × 1/s = 0 tokens");
  assert.equal(b.take("junk", 1, t0 + 5_000), true, "debt is capped at one burst");
});

test("token buckets: the key map is bounded; an evicted key starts full again", () => {
  const b = new TokenBuckets({ ratePerSecond: 0.001, burst: 1, maxKeys: 100 });
  for (let i = 0; i < 1000; i++) b.take(`k${i}`);
  assert.equal(b.size, 100);
  assert.equal(b.take("k999"), false, "recent keys are kept");
  assert.equal(b.take("k0"), true, "the least recently used were dropped (forgiven, never blocked)");
});

test("the audit keeps at most 4 KiB of a payload, cut on a character boundary and marked", () => {
  assert.deepEqual(auditPayload("short"), { text: "short", bytes: 5, truncated: false });
  const big = "ạ".repeat(5000); // 3 bytes each in UTF-8
  const cut = auditPayload(big);
  assert.equal(cut.truncated, true);
  assert.equal(cut.bytes, 15_000);
  assert.ok(Buffer.byteLength(cut.text, "utf8") <= AUDIT_PAYLOAD_MAX_BYTES);
  assert.match(cut.text, /^ạ+…\[truncated: 15000 bytes\]$/u);
  assert.equal(cut.text.includes("\uFFFD"), false, "no half character");
  const exact = "x".repeat(AUDIT_PAYLOAD_MAX_BYTES);
  assert.equal(auditPayload(exact).truncated, false);
});

test("source addresses: IPv4 and IPv6 as the edge passes them; anything else shares one bucket", () => {
  assert.equal(sourceOf("203.0.113.7"), "203.0.113.7");
  assert.equal(sourceOf("2001:db8::1"), "2001:db8::1");
  assert.equal(sourceOf(["198.51.100.2", "x"]), "198.51.100.2");
  assert.equal(sourceOf(undefined), "unknown");
  assert.equal(sourceOf("1.2.3.4, 5.6.7.8"), "unknown");
  assert.equal(sourceOf("a".repeat(100)), "unknown");
});
