/**
 * The soak run's plot (`soak.svg` beside `soak.csv`): three panels over the run's time, RSS per
 * process (MiB), orders per second between samples, and the largest consumer lag (entries).
 * Written by hand as SVG text: a few polylines need no plotting library (and no browser or image
 * encoder on a build machine); any browser opens the file.
 */
import type { SoakSample } from "./soak.js";

const WIDTH = 900;
const PANEL_HEIGHT = 220;
const MARGIN = { left: 70, right: 170, top: 30, bottom: 30 };
const COLOURS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

interface Series {
  name: string;
  points: { x: number; y: number }[];
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** One panel: axes from 0 to the largest value, one polyline per series, a legend on the right. */
function panel(title: string, unit: string, series: readonly Series[], top: number, maxX: number): string {
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + (maxX > 0 ? (v / maxX) * plotW : 0);
  const y = (v: number) => top + MARGIN.top + plotH - (v / maxY) * plotH;
  const parts = [
    `<text x="${MARGIN.left}" y="${top + 18}" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(maxX)}" y2="${y(0)}" stroke="#333"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(maxY)}" stroke="#333"/>`,
    `<text x="${x(0) - 6}" y="${y(maxY) + 4}" font-size="11" text-anchor="end">${maxY.toFixed(maxY < 10 ? 1 : 0)} ${escape(unit)}</text>`,
    `<text x="${x(0) - 6}" y="${y(0) + 4}" font-size="11" text-anchor="end">0</text>`,
    `<text x="${x(maxX)}" y="${y(0) + 16}" font-size="11" text-anchor="end">${(maxX / 60).toFixed(1)} min</text>`,
  ];
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = s.points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>`);
    parts.push(
      `<text x="${WIDTH - MARGIN.right + 10}" y="${top + MARGIN.top + 12 + i * 14}" font-size="11" fill="${colour}">${escape(s.name)}</text>`,
    );
  });
  return parts.join("\n");
}

/** The plot of a soak run's samples as an SVG document. */
export function samplesSvg(samples: readonly SoakSample[]): string {
  const maxX = samples.length ? samples[samples.length - 1]!.atMs / 1000 : 0;
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.rss)))].sort();
  const rss: Series[] = names.map((name) => ({
    name,
    // A gap (the process down after a fault) simply joins its neighbours.
    points: samples.filter((s) => s.rss[name]).map((s) => ({ x: s.atMs / 1000, y: s.rss[name]!.kib / 1024 })),
  }));
  const throughput: Series = {
    name: "orders/s",
    points: samples.slice(1).map((s, i) => {
      const prev = samples[i]!;
      const seconds = (s.atMs - prev.atMs) / 1000;
      return { x: s.atMs / 1000, y: seconds > 0 ? (s.orders - prev.orders) / seconds : 0 };
    }),
  };
  const lag: Series = {
    name: "max lag",
    points: samples.map((s) => ({ x: s.atMs / 1000, y: s.maxLag.entries })),
  };
  const height = 3 * PANEL_HEIGHT;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    panel("RSS per process", "MiB", rss, 0, maxX),
    panel("Orders completed per second", "/s", [throughput], PANEL_HEIGHT, maxX),
    panel("Largest consumer lag of any stream group", "entries", [lag], 2 * PANEL_HEIGHT, maxX),
    "</svg>",
    "",
  ].join("\n");
}
