// The slicing of an export range: contiguous slices of at most n days that cover it exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { daySlices, MAX_EXPORT_DAYS } from "../src/exports.js";

const DAY_MS = 86_400_000;
const next = (day: string) => new Date(Date.parse(day) + DAY_MS).toISOString().slice(0, 10);
const span = (s: { from: string; to: string }) => (Date.parse(s.to) - Date.parse(s.from)) / DAY_MS + 1;

test("a year (leap day included) in contiguous slices of at most 7 days, covering it exactly", () => {
  const from = "2027-06-01";
  const to = new Date(Date.parse(from) + (MAX_EXPORT_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  const slices = daySlices(from, to, 7);
  assert.equal(slices[0]?.from, from);
  assert.equal(slices.at(-1)?.to, to);
  for (let i = 1; i < slices.length; i++) assert.equal(slices[i]?.from, next(slices[i - 1]?.to ?? ""));
  assert.ok(slices.every((s) => span(s) >= 1 && span(s) <= 7));
  assert.equal(
    slices.reduce((n, s) => n + span(s), 0),
    MAX_EXPORT_DAYS,
  );
  assert.equal(slices.length, Math.ceil(MAX_EXPORT_DAYS / 7));
});

test("a day per slice: as many slices as days", () => {
  assert.equal(daySlices("2027-01-01", "2027-12-31", 1).length, 365);
});

test("one day is one slice; a range ending mid-week ends with a short slice", () => {
  assert.deepEqual(daySlices("2026-02-28", "2026-02-28", 1), [{ from: "2026-02-28", to: "2026-02-28" }]);
  assert.deepEqual(daySlices("2028-02-25", "2028-03-04", 7), [
    { from: "2028-02-25", to: "2028-03-02" },
    { from: "2028-03-03", to: "2028-03-04" },
  ]);
});
