import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration, rssTable, samplesCsv, throughputTable, type SoakSample } from "./soak.js";

const sample = (atMs: number, orders: number, rss: SoakSample["rss"], lag = 0): SoakSample => ({
  atMs,
  orders,
  rss,
  maxLag: { entries: lag, stream: lag ? "orders" : "", group: lag ? "dashboard" : "" },
  pendingEntries: 0,
});

test("durations read as the soak's flags write them; anything else is refused", () => {
  assert.equal(parseDuration("30m"), 1_800_000);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  for (const bad of ["", "30", "m", "-5m", "0s", "5 minutes"])
    assert.throws(() => parseDuration(bad), RangeError, bad);
});

test("RSS growth is measured within one process's life: a restart starts it over", () => {
  const samples = [
    sample(0, 0, { sales: { pid: 10, kib: 100 * 1024 }, edge: { pid: 20, kib: 50 * 1024 } }),
    sample(60_000, 100, { sales: { pid: 10, kib: 140 * 1024 }, edge: { pid: 20, kib: 60 * 1024 } }),
    // sales was killed and restarted: its new pid starts small again.
    sample(120_000, 200, { sales: { pid: 11, kib: 90 * 1024 }, edge: { pid: 20, kib: 70 * 1024 } }),
    sample(180_000, 300, { sales: { pid: 11, kib: 96 * 1024 }, edge: { pid: 20, kib: 71 * 1024 } }),
  ];
  const table = rssTable(samples);
  // edge: 50 → 71 MiB over 3 min, never restarted.
  assert.match(table, /\| edge \| 50\.0 \| 71\.0 \| \+21\.0 \| 7\.00 \| 0 \|/);
  // sales: compared from its restart (90 → 96 over 1 min), one restart.
  assert.match(table, /\| sales \| 90\.0 \| 96\.0 \| \+6\.0 \| 6\.00 \| 1 \|/);
});

test("throughput per interval and the lag at each interval's end", () => {
  const samples = [0, 30, 60, 90, 120].map((s, i) =>
    sample(s * 1000, [0, 50, 100, 100, 160][i]!, {}, i === 3 ? 40 : 0),
  );
  const table = throughputTable(samples, 60_000);
  assert.match(table, /\| 0:00–1:00 \| 1\.7 \| 0 \|/);
  assert.match(table, /\| 1:00–2:00 \| 1\.0 \| 0 \|/);
  assert.equal(
    samplesCsv([sample(1500, 3, { redis: { pid: 7, kib: 2048 } }, 5)]).split("\n")[1],
    "1.5,3,5,0,redis,7,2048",
  );
});
