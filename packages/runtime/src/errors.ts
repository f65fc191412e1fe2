import type { ErrorRequestHandler } from "express";
import { ZodError } from "zod";
import type { Logger } from "./logger.js";

/** The one error vocabulary of LSP: REST bodies and GraphQL `extensions.code` use these codes. */
export const ERROR_STATUS = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  // Identity (auth and the edge): distinct codes so that a client knows what to do next
  // (refresh, log in again, ask for a new code, wait).
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  UNKNOWN_SIGNING_KEY: 401,
  REFRESH_TOKEN_REUSED: 401,
  WRONG_TENANT: 403,
  NO_MEMBERSHIP: 403,
  OTP_INVALID: 401,
  OTP_EXPIRED: 401,
  OTP_LOCKED: 429,
  OTP_COOLDOWN: 429,
  // Feature flags: the feature is switched off for this restaurant (or location).
  FEATURE_DISABLED: 403,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "AppError";
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Maps any thrown value to an AppError; unknown errors become INTERNAL without leaking detail. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    return new AppError("BAD_USER_INPUT", "invalid input", {
      issues: err.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  const e = err as { type?: string; status?: number };
  // body-parser errors: malformed JSON and oversized bodies are the client's mistake.
  if (e?.type === "entity.too.large") return new AppError("PAYLOAD_TOO_LARGE", "request body too large");
  if (e?.type === "entity.parse.failed") return new AppError("BAD_USER_INPUT", "malformed JSON body");
  if (isDatabaseUnavailable(err))
    return new AppError("UNAVAILABLE", "the database is unavailable; retry shortly");
  return new AppError("INTERNAL", "internal error");
}

/** Socket errors of a database that is down or restarting (node's codes for the TCP connect). */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);

/**
 * PostgreSQL is down, restarting or shutting down — not a fault of the request: class 08
 * (connection exception), 57P01–57P03 (terminated by a shutdown; cannot connect now), a refused
 * or reset socket, or node-postgres' own messages for a connection that ended or never came.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === "string" &&
    (code.startsWith("08") || /^57P0[1-3]$/.test(code) || UNREACHABLE.has(code))
  )
    return true;
  return /^Connection terminated|^timeout exceeded when trying to connect|^Client has encountered a connection error/.test(
    err.message,
  );
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.code === "INTERNAL") log.error({ err, path: req.path }, "unhandled error");
    else log.info({ code: appError.code, path: req.path }, appError.message);
    res
      .status(appError.status)
      .json({ error: { code: appError.code, message: appError.message, ...appError.details } });
  };
}
