/** Quiet hours as minutes after local midnight; start > end wraps past midnight (22:00–07:00). */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** "22:30" → 1350; null for anything else. */
export function parseClock(value: string): number | null {
  const m = HHMM.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

export function formatClock(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
}

/** Minutes after midnight of `at` on the wall clock of `timeZone`. */
export function localMinute(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get("hour") * 60 + get("minute");
}

/** True when `at` falls inside the quiet hours on the location's clock (start inclusive, end exclusive). */
export function inQuietHours(at: Date, timeZone: string, quiet: QuietHours | null): boolean {
  if (!quiet || quiet.startMinute === quiet.endMinute) return false;
  const now = localMinute(at, timeZone);
  return quiet.startMinute < quiet.endMinute
    ? now >= quiet.startMinute && now < quiet.endMinute
    : now >= quiet.startMinute || now < quiet.endMinute;
}
