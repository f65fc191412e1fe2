import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Express, Request as ExpressRequest, Response as ExpressResponse } from "express";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import jwt from "jsonwebtoken";
import { z } from "zod";
import { AppError, businessDayArg, uuidArg, type Logger } from "@lsp/runtime";
import { canAccessLocation, systemHeaders, type Identity } from "@lsp/identity";
import { fetchLocation } from "@lsp/locations";
import { invokeService, readSecret, type SidecarPorts } from "@lsp/dapr";
import type { EdgeContext } from "./context.js";

/**
 * CSV exports (issue 17): `requestExport` answers a short-lived signed download link on the edge;
 * `GET /api/v1/exports/<token>` checks it and streams the file from the service that owns the
 * data (sales: orders and order lines; dashboard's read model: daily summaries and item sales)
 * through Dapr service invocation, without holding it: each service reads its rows through a
 * PostgreSQL cursor into a CSV stream (@lsp/db streamCsv), and the edge passes the bytes on.
 *
 * The link is a JWT (jsonwebtoken, HS256 only) signed with `edge-export-signing-key`, which only
 * the edge may read from the secret store (components/access.yaml); it names the tenant, the
 * location, the kind, the range, the member and an expiry (EDGE_EXPORT_LINK_TTL_S, 5 minutes), so
 * whoever holds it gets exactly that file, for that long. Scope was checked when it was signed
 * (the caller's tenant and branches, like every read); a link of a member changed since is refused.
 *
 * A range is fetched a slice of business days at a time, each slice one service invocation:
 * Dapr's resiliency timeout for the target (5 s, components/local/resiliency.yaml) covers the
 * streamed body too (the caller's sidecar copies it inside the policy,
 * pkg/api/http/directmessaging.go), so a slice must leave the service well within it whatever the
 * client's pace. Orders and order lines go a business day per slice (a busy branch's day of lines
 * is a few hundred kB: it fits the socket buffers between the edge's sidecar and the edge, so a
 * slow client holds the next request back, never the service's answer); the read model's rows
 * are few (one per day, or per day and item), 31 days per slice.
 */
export const ExportConfig = z.object({
  EDGE_EXPORT_LINK_TTL_S: z.coerce.number().int().min(10).max(3600).default(300),
});
export type ExportConfig = z.infer<typeof ExportConfig>;

/** Longest range one export covers: a year (a leap year included). */
export const MAX_EXPORT_DAYS = 366;
/** The edge's own deadline for one slice (Dapr's resiliency timeout cuts it sooner). */
const SLICE_TIMEOUT_MS = 30_000;
const SIGNING_SECRET = "edge-export-signing-key";
const AUDIENCE = "lsp-export";
const ISSUER = "lsp-edge";
const DAY_MS = 86_400_000;

/** Each kind: the app that owns the data and its export route (@lsp/db mountCsvExports). */
const KINDS = {
  ORDERS: { app: "sales", method: "v1/exports/orders", file: "orders", sliceDays: 1 },
  ORDER_LINES: { app: "sales", method: "v1/exports/order-lines", file: "order_lines", sliceDays: 1 },
  DAILY_SUMMARIES: {
    app: "dashboard",
    method: "v1/exports/daily-summaries",
    file: "daily_summaries",
    sliceDays: 31,
  },
  ITEM_SALES: { app: "dashboard", method: "v1/exports/item-sales", file: "item_sales", sliceDays: 31 },
} as const;
type ExportKind = keyof typeof KINDS;
const ExportKind = z.enum(Object.keys(KINDS) as [ExportKind, ...ExportKind[]]);

/** What a link carries (its JWT claims besides aud, iss, exp, iat, jti). */
const LinkClaims = z.object({
  kind: ExportKind,
  tid: z.uuid(),
  loc: z.uuid(),
  from: z.iso.date(),
  to: z.iso.date(),
  sub: z.string().optional(),
  iat: z.number(),
});
type LinkClaims = z.infer<typeof LinkClaims>;

/** The signing key, read once from the secret store (again after a failed read). */
function signingKey(ports: SidecarPorts): () => Promise<string> {
  let key: Promise<string> | undefined;
  return () => {
    key ??= readSecret(ports, "secretstore", SIGNING_SECRET).catch((err: unknown) => {
      key = undefined;
      throw err;
    });
    return key;
  };
}

/** from..to in slices of `days` days, oldest first. */
export function daySlices(from: string, to: string, days: number): { from: string; to: string }[] {
  const slices: { from: string; to: string }[] = [];
  const end = Date.parse(to);
  for (let start = Date.parse(from); start <= end; start += days * DAY_MS) {
    const last = Math.min(start + (days - 1) * DAY_MS, end);
    slices.push({
      from: new Date(start).toISOString().slice(0, 10),
      to: new Date(last).toISOString().slice(0, 10),
    });
  }
  return slices;
}

const typeDefs = /* GraphQL */ `
  enum ExportKind {
    "One row per order (status, payment method, amounts in VND)."
    ORDERS
    "One row per order line (item, quantity, unit price and line total in VND)."
    ORDER_LINES
    "One row per business day with orders: counts, gross, discounts, net revenue, voids, average ticket."
    DAILY_SUMMARIES
    "One row per business day and item sold: quantity, revenue and food cost in VND."
    ITEM_SALES
  }
  input ExportInput {
    kind: ExportKind!
    locationId: ID!
    "First business day (YYYY-MM-DD)."
    from: String!
    "Last business day, included; at most 366 days after from."
    to: String!
  }
  type ExportLink {
    "Download address on the edge (GET, no other credential): CSV, UTF-8 with BOM. Absolute when the request named its host."
    url: String!
    "The same address relative to the edge."
    path: String!
    "When the link stops working (ISO 8601)."
    expiresAt: String!
  }
  type Query {
    _exports: Boolean
  }
  type Mutation {
    "A short-lived signed link to a CSV of one location's data over a range of business days."
    requestExport(input: ExportInput!): ExportLink!
  }
`;

const ExportInput = z.object({ kind: ExportKind, locationId: z.string(), from: z.string(), to: z.string() });

export function exportsSchema(ports: SidecarPorts, config: ExportConfig): GraphQLSchema {
  const key = signingKey(ports);
  return makeExecutableSchema<EdgeContext & { request?: Request }>({
    typeDefs,
    resolvers: {
      Mutation: {
        requestExport: async (
          _: unknown,
          args: { input: unknown },
          ctx: EdgeContext & { request?: Request },
        ) => {
          const who: Identity = ctx.identity();
          const input = ExportInput.parse(args.input);
          const locationId = uuidArg(input.locationId, "locationId");
          const from = businessDayArg(input.from, "from");
          const to = businessDayArg(input.to, "to");
          if (from > to) throw new AppError("BAD_USER_INPUT", "from is after to", { field: "from" });
          const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
          if (days > MAX_EXPORT_DAYS)
            throw new AppError(
              "BAD_USER_INPUT",
              `an export spans at most ${MAX_EXPORT_DAYS} business days (this one ${days})`,
              { field: "to", max: MAX_EXPORT_DAYS },
            );
          if (!canAccessLocation(who, locationId))
            throw new AppError("FORBIDDEN", "no access to this location", { field: "locationId" });
          // NOT_FOUND for another tenant's location (auth answers within the caller's tenant).
          await fetchLocation(ports, who, locationId);
          const token = jwt.sign(
            { kind: input.kind, tid: who.tenantId, loc: locationId, from, to },
            await key(),
            {
              algorithm: "HS256",
              expiresIn: config.EDGE_EXPORT_LINK_TTL_S,
              audience: AUDIENCE,
              issuer: ISSUER,
              jwtid: randomUUID(),
              ...(who.userId ? { subject: who.userId } : {}),
            },
          );
          const path = `/api/v1/exports/${token}`;
          return {
            url: `${publicOrigin(ctx.request)}${path}`,
            path,
            expiresAt: new Date(Date.now() + config.EDGE_EXPORT_LINK_TTL_S * 1000).toISOString(),
          };
        },
      },
    },
  });
}

/**
 * The edge's address as the client reached it: its Host (the tenant's subdomain included) and the
 * scheme the ingress says it terminated (X-Forwarded-Proto), else http (the local mesh). Only the
 * caller's own answer depends on it. The request's URL cannot say: the front hands Yoga a
 * placeholder origin (graphql-front.ts).
 */
function publicOrigin(request: Request | undefined): string {
  const host = request?.headers.get("host");
  if (!host || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) return "";
  const proto = request?.headers.get("x-forwarded-proto")?.split(",")[0]?.trim();
  return `${proto === "https" ? "https" : "http"}://${host}`;
}

/** A link's claims, or TOKEN_EXPIRED / TOKEN_INVALID (forged, altered, another kind of token). */
async function verifyLink(token: string, key: string): Promise<LinkClaims> {
  if (token.length > 2048) throw new AppError("TOKEN_INVALID", "not an export link");
  try {
    const claims = jwt.verify(token, key, { algorithms: ["HS256"], audience: AUDIENCE, issuer: ISSUER });
    const parsed = LinkClaims.safeParse(claims);
    if (!parsed.success) throw new AppError("TOKEN_INVALID", "not an export link");
    return parsed.data;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError)
      throw new AppError("TOKEN_EXPIRED", "this export link has expired: request a new one");
    if (err instanceof AppError) throw err;
    throw new AppError("TOKEN_INVALID", "not an export link");
  }
}

/**
 * `GET /api/v1/exports/:token`: a valid link streams its CSV, slice after slice, each straight
 * from the owning service's answer to the client (backpressure end to end: nothing is buffered
 * beyond the streams' own chunks). An expired or forged link is a typed 401 and asks nothing of
 * any service. A failure before the first byte is a typed 503; after it the transfer is cut, so a
 * partial file never looks whole.
 */
export function mountExportDownloads(
  app: Express,
  ports: SidecarPorts,
  log: Logger,
  stillMember: (identity: Identity, issuedAtMs: number) => void,
): void {
  const key = signingKey(ports);
  app.get("/api/v1/exports/:token", async (req: ExpressRequest<{ token: string }>, res: ExpressResponse) => {
    const claims = await verifyLink(req.params.token, await key());
    if (claims.sub) stillMember({ tenantId: claims.tid, userId: claims.sub }, claims.iat * 1000);
    const kind = KINDS[claims.kind];
    const started = Date.now();
    let sent = false;
    for (const slice of daySlices(claims.from, claims.to, kind.sliceDays)) {
      const query = new URLSearchParams({
        locationId: claims.loc,
        from: slice.from,
        to: slice.to,
        header: String(!sent),
      });
      let upstream: Response | undefined;
      try {
        upstream = await invokeService(ports, kind.app, kind.method, {
          query: `?${query.toString()}`,
          headers: systemHeaders(claims.tid),
          timeoutMs: SLICE_TIMEOUT_MS,
        });
      } catch (err) {
        if (!sent) throw err;
      }
      if (!upstream?.ok || !upstream.body) {
        log.error({ kind: claims.kind, status: upstream?.status, slice }, "export slice refused");
        if (!sent) throw new AppError("UNAVAILABLE", "the export could not be read; try again");
        res.destroy();
        return;
      }
      if (!sent) {
        res.status(200);
        res.setHeader("content-type", "text/csv; charset=utf-8");
        res.setHeader(
          "content-disposition",
          `attachment; filename="${kind.file}_${claims.from}_${claims.to}.csv"`,
        );
        res.setHeader("cache-control", "private, no-store");
        sent = true;
      }
      try {
        await pipeline(Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>), res, { end: false });
      } catch (err) {
        log.warn({ err, kind: claims.kind, slice }, "export transfer cut");
        res.destroy();
        return;
      }
    }
    res.end();
    log.info(
      { kind: claims.kind, tenantId: claims.tid, locationId: claims.loc, ms: Date.now() - started },
      "export served",
    );
  });
}
