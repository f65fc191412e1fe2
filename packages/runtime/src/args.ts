import { z } from "zod";
import { AppError } from "./errors.js";

/**
 * Most keys one stitching merge call (`_salesLocations(ids:)` and the like) may carry. The edge
 * batches the keys of one operation: a screen shows a tenant's branches (tens), so 200 leaves
 * room; 5,000 in one call is someone using the field as a bulk API.
 */
export const MAX_MERGE_KEYS = 200;

/** Business days the services answer for: anything outside is a typo or a probe, not history. */
export const FIRST_BUSINESS_DAY = "2000-01-01";
export const LAST_BUSINESS_DAY = "2099-12-31";

const Uuid = z.uuid();

/** A UUID argument (ids are UUIDs everywhere); BAD_USER_INPUT naming the field otherwise. */
export function uuidArg(value: unknown, field: string): string {
  const parsed = Uuid.safeParse(value);
  if (!parsed.success) throw new AppError("BAD_USER_INPUT", `${field} must be a UUID`, { field });
  return parsed.data;
}

/**
 * The keys of a merge field: at most MAX_MERGE_KEYS, each a UUID. The whole call is refused
 * (BAD_USER_INPUT) rather than answering part of it: a key that is not a UUID cannot have come
 * from another subschema's answer, only from someone calling the field by hand.
 */
export function mergeKeys(ids: unknown, field = "ids"): string[] {
  if (!Array.isArray(ids)) throw new AppError("BAD_USER_INPUT", `${field} must be a list`, { field });
  if (ids.length > MAX_MERGE_KEYS)
    throw new AppError("BAD_USER_INPUT", `at most ${MAX_MERGE_KEYS} ${field} per call`, {
      field,
      max: MAX_MERGE_KEYS,
    });
  return ids.map((id, i) => uuidArg(id, `${field}[${i}]`));
}

/** A business day argument: a real calendar date (YYYY-MM-DD) between 2000 and 2099. */
export function businessDayArg(value: unknown, field: string): string {
  const parsed = z.iso.date().safeParse(value);
  if (!parsed.success)
    throw new AppError("BAD_USER_INPUT", `${field} must be a date (YYYY-MM-DD)`, { field });
  if (parsed.data < FIRST_BUSINESS_DAY || parsed.data > LAST_BUSINESS_DAY)
    throw new AppError(
      "BAD_USER_INPUT",
      `${field} must be between ${FIRST_BUSINESS_DAY} and ${LAST_BUSINESS_DAY}`,
      { field },
    );
  return parsed.data;
}
