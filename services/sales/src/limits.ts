import { z } from "zod";
import { AppError } from "@lsp/runtime";

/**
 * Business caps of one order and of a menu price. Far above what a restaurant or café sells in
 * one ticket (a 200-guest wedding banquet stays well inside), yet low enough that every sum the
 * platform keeps (an order, a day, a location's lifetime) stays an exact integer (< 2^53).
 */
export const LIMITS = {
  linesPerOrder: 200,
  lineQuantity: 1_000,
  /** A menu item's price (and food cost). */
  unitPriceVnd: 100_000_000,
  /** Subtotal of one order (the total, after discount, is at most this too). */
  orderTotalVnd: 10_000_000_000,
  guests: 500,
} as const;

/**
 * Parses a mutation's input; a mistake is BAD_USER_INPUT whose message names the first offending
 * field and says what is allowed (every issue is in `issues`).
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const [first] = issues;
  throw new AppError(
    "BAD_USER_INPUT",
    first ? `${first.path || "input"}: ${first.message}` : "invalid input",
    {
      ...(first ? { field: first.path } : {}),
      issues,
    },
  );
}
