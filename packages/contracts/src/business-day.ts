/** Vietnam has no daylight saving time; every location defaults to it. */
export const DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh";
export const DEFAULT_CUTOVER_HOUR = 4;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The business day an instant belongs to: the local calendar date of (instant − cut-over hours).
 * With a 04:00 cut-over, a sale at 01:30 on the 3rd belongs to the business day of the 2nd.
 */
export function businessDay(
  instant: Date,
  cutoverHour = DEFAULT_CUTOVER_HOUR,
  timeZone = DEFAULT_TIME_ZONE,
): string {
  if (!Number.isInteger(cutoverHour) || cutoverHour < 0 || cutoverHour > 23) {
    throw new RangeError(`cut-over hour must be an integer 0..23, got ${cutoverHour}`);
  }
  return formatter(timeZone).format(new Date(instant.getTime() - cutoverHour * 3_600_000));
}
