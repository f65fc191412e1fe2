import { test } from "node:test";
import assert from "node:assert/strict";
import { samplesSvg } from "./soak-plot.js";
import type { SoakSample } from "./soak.js";

const sample = (atMs: number, orders: number, rss: SoakSample["rss"], lag = 0): SoakSample => ({
  atMs,
  orders,
  rss,
  maxLag: { entries: lag, stream: "orders", group: "dashboard" },
  pendingEntries: 0,
});

test("one RSS line per process, one throughput line and one lag line, all inside the picture", () => {
  const svg = samplesSvg([
    sample(0, 0, { sales: { pid: 1, kib: 100 * 1024 }, "edge<1>": { pid: 2, kib: 50 * 1024 } }),
    sample(30_000, 150, { sales: { pid: 1, kib: 110 * 1024 }, "edge<1>": { pid: 2, kib: 55 * 1024 } }, 4),
    // sales was down at this sample (a fault): its line joins its neighbours.
    sample(60_000, 300, { "edge<1>": { pid: 2, kib: 56 * 1024 } }),
    sample(90_000, 480, { sales: { pid: 3, kib: 90 * 1024 }, "edge<1>": { pid: 2, kib: 57 * 1024 } }),
  ]);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 4, "edge, sales, orders/s, lag");
  assert.ok(svg.includes("edge&lt;1&gt;"), "names are escaped");
  const coordinates = [...svg.matchAll(/points="([^"]*)"/g)].flatMap((m) =>
    (m[1] ?? "").split(" ").map((p) => p.split(",").map(Number)),
  );
  for (const [x, y] of coordinates) {
    assert.ok(x !== undefined && x >= 0 && x <= 900, `x ${x}`);
    assert.ok(y !== undefined && y >= 0 && y <= 660, `y ${y}`);
  }
  // sales: three points (0 s, 30 s, 90 s); the top of the RSS panel is its largest value, 110 MiB.
  const salesLine = /stroke="#ff7f0e"[^>]*points="([^"]*)"/.exec(svg)?.[1] ?? "";
  assert.equal(salesLine.split(" ").length, 3);
  assert.match(svg, />110 MiB</);
  // 5.0, 5.0 then 6.0 orders/s between samples: the throughput panel tops out at 6.0/s.
  assert.match(svg, />6\.0 \/s</);
});

test("no samples: an empty but valid picture", () => {
  const svg = samplesSvg([]);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
});
