import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";
import { AppError } from "@lsp/runtime";

/**
 * Largest amount any LSP figure may hold: JavaScript numbers (and JSON parsers that read into
 * doubles) are exact up to here. GraphQL's `Int` stops at 2^31 − 1 (2.1 bn VND), which one
 * large banquet order or a location's lifetime revenue passes.
 */
export const MAX_VND = Number.MAX_SAFE_INTEGER;

/** A base-10 integer with no sign tricks, spaces, exponent or leading zeros. */
const DECIMAL_INTEGER = /^-?(0|[1-9][0-9]*)$/;

function invalid(message: string): AppError {
  return new AppError("BAD_USER_INPUT", message, { type: "Vnd" });
}

/** Every amount and the exact integer it stands for, or undefined when it is not one. */
function exactInteger(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === "bigint")
    return value <= BigInt(MAX_VND) && value >= -BigInt(MAX_VND) ? Number(value) : undefined;
  if (typeof value === "string" && DECIMAL_INTEGER.test(value)) {
    // Any decimal string above 2^53 − 1 parses to a number outside the safe range.
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/**
 * An amount from a client (a variable, or an argument already parsed): a JSON number that is an
 * integer with |v| ≤ 2^53 − 1, or a string of its decimal digits (for clients that keep amounts
 * as big integers). Anything else is BAD_USER_INPUT: the caller's mistake, never INTERNAL.
 */
export function parseVnd(value: unknown): number {
  const n = exactInteger(value);
  if (n !== undefined) return n;
  if (typeof value === "number" && Number.isInteger(value))
    throw invalid(`a VND amount must be at most ${MAX_VND} in magnitude`);
  if (typeof value === "number") throw invalid("a VND amount must be a whole number of đồng");
  throw invalid("a VND amount must be an integer (a JSON number)");
}

/**
 * An amount leaving a service. A value outside the exact range is a bug on the server's side
 * (plain Error: reported as INTERNAL and logged), never rounded silently.
 */
export function serializeVnd(value: unknown): number {
  const n = exactInteger(value);
  if (n === undefined) throw new Error(`not an exact VND amount: ${String(value).slice(0, 40)}`);
  return n;
}

/**
 * A literal in the query text. Checked while the query is validated, where only a GraphQLError
 * keeps its code (Yoga labels any other validation error GRAPHQL_VALIDATION_FAILED).
 */
function parseVndLiteral(node: ValueNode): number {
  const refuse = (message: string) =>
    new GraphQLError(message, { nodes: node, extensions: { code: "BAD_USER_INPUT", type: "Vnd" } });
  if (node.kind === Kind.INT || node.kind === Kind.STRING) {
    const n = exactInteger(node.value);
    if (n !== undefined) return n;
    if (node.kind === Kind.INT) throw refuse(`a VND amount must be at most ${MAX_VND} in magnitude`);
  }
  if (node.kind === Kind.FLOAT)
    throw refuse("a VND amount must be an integer literal (no decimal point or exponent)");
  throw refuse("a VND amount must be an integer");
}

/**
 * The `Vnd` scalar every subschema declares (`scalar Vnd`) and resolves with this one
 * implementation; stitching merges the same-named scalars into one at the edge.
 */
export const VndScalar = new GraphQLScalarType<number, number>({
  name: "Vnd",
  description: `Amount in Vietnamese đồng: an exact integer, |v| ≤ ${MAX_VND} (2^53 − 1), serialized as a JSON number.`,
  serialize: serializeVnd,
  parseValue: parseVnd,
  parseLiteral: parseVndLiteral,
});
