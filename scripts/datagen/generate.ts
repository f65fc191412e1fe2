// Seeded synthetic sales history (docs/domain.md §4): negative-binomial orders per location,
// day and hour with a Vietnamese weekday × hour profile, Zipf item popularity, holidays and Tết,
// payday and rain multipliers, a trend, and injected anomalies. Pure: same seed, same orders.

export interface MenuItem {
  id: string;
  name: string;
  category: string;
  priceVnd: number;
  available: boolean;
}

export interface GenLocation {
  id: string;
  timeZone: string;
  cutoverHour: number;
  menu: MenuItem[];
}

export type PaymentMethod = "cash" | "card" | "momo" | "zalopay" | "vnpay";

export interface PlannedOrder {
  /** Deterministic: reloading the same plan never duplicates an order. */
  idempotencyKey: string;
  locationId: string;
  occurredAt: string;
  businessDay: string;
  paymentMethod: PaymentMethod;
  lines: { itemId: string; quantity: number }[];
  discountVnd: number;
  guests: number;
  paid: boolean;
  voided: boolean;
}

export interface Anomaly {
  locationId: string;
  businessDay: string;
  kind: "revenue_drop" | "void_spike";
  hours: number[];
}

export interface GenOptions {
  seed: number;
  days: number;
  /** The last generated business day ends at `now` (orders after it are not generated). */
  now: Date;
  /** Mean orders of an ordinary weekday at a location. */
  baseOrdersPerDay?: number;
  /** Negative-binomial dispersion (smaller = burstier). */
  dispersion?: number;
  /** Daily growth of demand (e.g. 0.002 = +0.2 % a day). */
  trendPerDay?: number;
  /** Probability that a day carries an injected anomaly. */
  anomalyRate?: number;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Gamma(shape, 1) by Marsaglia–Tsang. */
function gamma(rand: () => number, shape: number): number {
  if (shape < 1) return gamma(rand, shape + 1) * Math.pow(rand(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rand);
    const v = Math.pow(1 + c * x, 3);
    if (v <= 0) continue;
    if (Math.log(rand()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

function poisson(rand: () => number, lambda: number): number {
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rand)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}

/** Negative binomial as a gamma–Poisson mixture with the given mean and dispersion k. */
export function negativeBinomial(rand: () => number, mean: number, k: number): number {
  if (mean <= 0) return 0;
  return poisson(rand, gamma(rand, k) * (mean / k));
}

/** Share of a day's orders by local hour: breakfast phở, lunch, an afternoon coffee lull, dinner. */
export const HOUR_PROFILE: readonly number[] = [
  0.2, 0.1, 0.05, 0.02, 0.02, 0.3, 1.6, 2.2, 1.8, 1.0, 0.9, 2.0, 2.4, 1.6, 0.8, 0.8, 0.9, 1.3, 2.2, 2.4, 1.7,
  1.0, 0.6, 0.4,
];

/** Demand by weekday (0 = Sunday): weekends busier. */
export const WEEKDAY_FACTOR: readonly number[] = [1.3, 0.9, 0.9, 0.95, 1.0, 1.15, 1.35];

/** Tết (lunar new year) first days, 2024–2028, and fixed public holidays (MM-DD). */
const TET = ["2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26"];
const HOLIDAYS = ["01-01", "04-30", "05-01", "09-02"];

export function calendarFactor(day: string): number {
  for (const tet of TET) {
    const offset = (Date.parse(`${day}T00:00:00Z`) - Date.parse(`${tet}T00:00:00Z`)) / 86_400_000;
    if (offset >= -7 && offset < 0) return 1.4; // shopping and year-end parties before Tết
    if (offset >= 0 && offset < 3) return 0.15; // most places close or run a skeleton menu
    if (offset >= 3 && offset < 7) return 0.7;
  }
  if (HOLIDAYS.includes(day.slice(5))) return 1.3;
  const dom = Number(day.slice(8, 10));
  if (dom >= 25 || dom <= 3) return 1.08; // payday
  return 1;
}

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function localParts(instant: Date, timeZone: string): { day: string; hour: number } {
  const f = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    hourCycle: "h23",
  });
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, x.value]));
  return { day: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour) };
}

/** UTC instant of a local wall-clock time in a fixed-offset zone (Vietnam has no DST). */
function instantOf(day: string, hour: number, minute: number, timeZone: string): Date {
  const guess = new Date(`${day}T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}:00Z`);
  const local = localParts(guess, timeZone);
  const shownAsUtc = Date.parse(`${local.day}T${String(local.hour).padStart(2, "0")}:00:00Z`);
  const offsetMs = shownAsUtc - Date.parse(`${day}T${String(hour).padStart(2, "0")}:00:00Z`) + 0;
  return new Date(guess.getTime() - offsetMs);
}

function pick<T>(rand: () => number, items: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((s, w) => s + w, 0);
  let r = rand() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i] ?? 0;
    if (r < 0) return items[i] as T;
  }
  return items[items.length - 1] as T;
}

const METHODS: readonly PaymentMethod[] = ["cash", "momo", "card", "zalopay", "vnpay"];
const METHOD_WEIGHTS = [0.45, 0.25, 0.1, 0.1, 0.1];

/** The history of some locations over the last `days` business days, up to `now`. */
export function generateHistory(
  locations: GenLocation[],
  opts: GenOptions,
): { orders: PlannedOrder[]; anomalies: Anomaly[] } {
  const rand = rng(opts.seed);
  const base = opts.baseOrdersPerDay ?? 120;
  const k = opts.dispersion ?? 8;
  const trend = opts.trendPerDay ?? 0.002;
  const anomalyRate = opts.anomalyRate ?? 0.05;
  const orders: PlannedOrder[] = [];
  const anomalies: Anomaly[] = [];
  let serial = 0;

  for (const loc of locations) {
    const menu = loc.menu.filter((m) => m.available);
    if (menu.length === 0) continue;
    // Zipf popularity over a shuffled menu: a few items sell most.
    const order = menu.map((m) => ({ m, r: rand() })).sort((a, b) => a.r - b.r);
    const popularity = order.map((_, i) => 1 / Math.pow(i + 1, 1.1));
    const itemsByRank = order.map((o) => o.m);
    const locScale = 0.6 + rand() * 0.8;
    const today = localParts(new Date(opts.now.getTime() - loc.cutoverHour * 3_600_000), loc.timeZone).day;

    for (let d = opts.days - 1; d >= 0; d--) {
      const day = addDays(today, -d);
      const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
      const rain = rand() < 0.2 ? 0.85 : 1;
      const mean =
        base *
        locScale *
        (WEEKDAY_FACTOR[weekday] ?? 1) *
        calendarFactor(day) *
        rain *
        (1 + trend * (opts.days - d));
      const anomaly: Anomaly | null =
        rand() < anomalyRate
          ? {
              locationId: loc.id,
              businessDay: day,
              kind: rand() < 0.5 ? "revenue_drop" : "void_spike",
              hours: [11, 12, 13],
            }
          : null;
      if (anomaly) anomalies.push(anomaly);
      // Hours of the business day, from the cut-over on.
      for (let i = 0; i < 24; i++) {
        const hour = (loc.cutoverHour + i) % 24;
        const calendarDay = i + loc.cutoverHour >= 24 ? addDays(day, 1) : day;
        let hourMean = (mean * (HOUR_PROFILE[hour] ?? 0)) / 24;
        if (anomaly?.kind === "revenue_drop" && anomaly.hours.includes(hour)) hourMean *= 0.2;
        const n = negativeBinomial(rand, hourMean, k);
        for (let j = 0; j < n; j++) {
          const at = instantOf(calendarDay, hour, Math.floor(rand() * 60), loc.timeZone);
          at.setUTCSeconds(Math.floor(rand() * 60));
          if (at.getTime() > opts.now.getTime()) continue;
          const lineCount = 1 + Math.floor(rand() * 3);
          const chosen = new Map<string, number>();
          for (let l = 0; l < lineCount; l++) {
            const item = pick(rand, itemsByRank, popularity);
            chosen.set(item.id, (chosen.get(item.id) ?? 0) + 1 + (rand() < 0.2 ? 1 : 0));
          }
          const lines = [...chosen].map(([itemId, quantity]) => ({ itemId, quantity }));
          const subtotal = lines.reduce(
            (s, l) => s + l.quantity * (menu.find((m) => m.id === l.itemId)?.priceVnd ?? 0),
            0,
          );
          const discountVnd =
            rand() < 0.08 ? Math.min(subtotal, Math.round((subtotal * 0.1) / 1000) * 1000) : 0;
          const voidP = anomaly?.kind === "void_spike" && anomaly.hours.includes(hour) ? 0.3 : 0.02;
          orders.push({
            idempotencyKey: `gen-${opts.seed}-${loc.id.slice(0, 8)}-${++serial}`,
            locationId: loc.id,
            occurredAt: at.toISOString(),
            businessDay: day,
            paymentMethod: pick(rand, METHODS, METHOD_WEIGHTS),
            lines,
            discountVnd,
            guests: 1 + Math.floor(rand() * 4),
            paid: rand() < 0.97,
            voided: rand() < voidP,
          });
        }
      }
    }
  }
  orders.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  return { orders, anomalies };
}

/** What the dashboard should show for one location-day, computed from the plan and the menu. */
export function expectedDay(
  orders: PlannedOrder[],
  prices: Map<string, { name: string; priceVnd: number }>,
  locationId: string,
  day: string,
) {
  const kept = orders.filter((o) => o.locationId === locationId && o.businessDay === day && !o.voided);
  const total = (o: PlannedOrder) =>
    o.lines.reduce((s, l) => s + l.quantity * (prices.get(l.itemId)?.priceVnd ?? NaN), 0) - o.discountVnd;
  const items = new Map<string, { name: string; quantity: number; revenue: number }>();
  for (const o of kept)
    for (const l of o.lines) {
      const p = prices.get(l.itemId);
      const it = items.get(l.itemId) ?? { name: p?.name ?? "?", quantity: 0, revenue: 0 };
      it.quantity += l.quantity;
      it.revenue += l.quantity * (p?.priceVnd ?? NaN);
      items.set(l.itemId, it);
    }
  return {
    revenue: kept.reduce((s, o) => s + total(o), 0),
    orders: kept.length,
    items,
    byHour: (timeZone: string) => {
      const out = new Map<number, number>();
      for (const o of kept) {
        const h = localParts(new Date(o.occurredAt), timeZone).hour;
        out.set(h, (out.get(h) ?? 0) + total(o));
      }
      return out;
    },
  };
}
