/** For a node-postgres type parser: BIGINT (int8) text as an exact number, never rounded. */
export function parseInt8Exact(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new RangeError(`BIGINT ${text} is beyond 2^53 − 1 and cannot be read exactly`);
  return n;
}
