// What an invite SMS may carry of a restaurant's name (chosen by whoever onboarded it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { inviteText, NAME_MAX, smsSafeName } from "../src/invite-text.js";

test("ordinary Vietnamese names pass unchanged", () => {
  for (const name of ["Phở Bò Hà Nội", "Cà Phê Sài Gòn", "Bún Chả Hương Liên", "Phở 24 - Q.1", "Cơm Tấm 3.5"])
    assert.equal(smsSafeName(name), name);
});

test("links, e-mail addresses and numbers to call are taken out", () => {
  const cases: [string, string][] = [
    ["Phở http://evil.example/login nhận quà", "Phở nhận quà"],
    ["Phở HTTPS://EVIL.EXAMPLE", "Phở"],
    ["Phở www.evil.vn ngon", "Phở ngon"],
    ["Phở evil.com/x?a=1 ngon", "Phở ngon"],
    ["Phở ｅｖｉｌ．ｃｏｍ", "Phở"],
    ["Phở gọi 0912 345 678 ngay", "Phở gọi ngay"],
    ["Phở +84-912-345-678", "Phở"],
    ["Phở me@evil.com", "Phở"],
  ];
  for (const [raw, want] of cases) assert.equal(smsSafeName(raw), want, raw);
});

test("control and invisible characters go, length is capped, an empty result has a fallback", () => {
  assert.equal(smsSafeName("Phở\nBò\r\n\tHà\u0000Nội"), "Phở Bò Hà Nội");
  assert.equal(smsSafeName("Phở\u202eBò\u200b"), "Phở Bò");
  const long = smsSafeName("Nhà hàng ".repeat(20));
  assert.equal([...long].length, NAME_MAX);
  assert.ok(long.endsWith("…"));
  assert.equal(smsSafeName("https://evil.example"), "Một nhà hàng");
  assert.equal(smsSafeName("\u0007\u0008"), "Một nhà hàng");
});

test("the invite text carries only the sanitised name and our own words", () => {
  const text = inviteText("Phở\nhttp://evil.example", "staff", new Date("2026-12-01T00:00:00Z"));
  assert.equal(
    text,
    "Phở mời bạn làm nhân viên trên LSP. Đăng nhập bằng số điện thoại này trước 1/12/2026 để nhận lời mời.",
  );
  assert.match(inviteText(undefined, "manager", new Date()), /^Một nhà hàng mời bạn làm quản lý/);
});
