import { randomUUID } from "node:crypto";
import { Readable, Transform } from "node:stream";
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
import { trackExport } from "./metrics.js";

/** Passes chunks on unchanged, telling `count` each one's length (export metrics). */
function countBytes(count: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      count(chunk.length);
      done(null, chunk);
    },
  });
}

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
/**
 * Most branches one whole-chain export covers: the link names each (about 50 bytes a branch), and
 * a link must stay a URL every client and proxy takes (MAX_LINK_LENGTH).
 */
export const MAX_CHAIN_BRANCHES = 100;
const MAX_LINK_LENGTH = 8192;
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
const LinkClaims = z
  .object({
    kind: ExportKind,
    tid: z.uuid(),
    /** One location's export… */
    loc: z.uuid().optional(),
    /** …or a whole-chain export: the branches in the caller's scope when it was signed. */
    locs: z.array(z.uuid()).min(1).max(MAX_CHAIN_BRANCHES).optional(),
    from: z.iso.date(),
    to: z.iso.date(),
    sub: z.string().optional(),
    iat: z.number(),
  })
  .refine((c) => (c.loc === undefined) !== (c.locs === undefined), "a link names one location or a chain");
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
  input ChainExportInput {
    kind: ExportKind!
    "First business day (YYYY-MM-DD)."
    from: String!
    "Last business day, included; at most 366 days after from."
    to: String!
  }
  type Mutation {
    "A short-lived signed link to a CSV of one location's data over a range of business days."
    requestExport(input: ExportInput!): ExportLink!
    """
    Owners and managers: a short-lived signed link to one CSV of every branch in their scope (at
    most ${MAX_CHAIN_BRANCHES}), branch after branch by name, each row starting with location_id and
    location_name. Staff: FORBIDDEN.
    """
    requestChainExport(input: ChainExportInput!): ExportLink!
  }
`;

const ExportInput = z.object({ kind: ExportKind, locationId: z.string(), from: z.string(), to: z.string() });
const ChainExportInput = z.object({ kind: ExportKind, from: z.string(), to: z.string() });

/** A range argument pair: real business days, from ≤ to, at most MAX_EXPORT_DAYS. */
function exportRange(input: { from: string; to: string }): { from: string; to: string } {
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
  return { from, to };
}

const ScopedLocations = z.object({ data: z.object({ locations: z.array(z.object({ id: z.uuid() })) }) });

/**
 * The branches in the caller's scope, as auth lists them for the caller itself (its `locations`
 * query with the caller's own token: owners every branch, managers theirs), checked again here.
 */
async function branchesInScope(ports: SidecarPorts, ctx: EdgeContext): Promise<string[]> {
  const who = ctx.identity();
  const res = await invokeService(ports, "auth", "graphql", {
    method: "POST",
    body: JSON.stringify({ query: "{ locations { id } }" }),
    headers: { "content-type": "application/json", ...ctx.forward() },
  });
  const parsed = ScopedLocations.safeParse(res.ok ? await res.json() : undefined);
  if (!parsed.success)
    throw new AppError("UNAVAILABLE", "the restaurant's branches could not be read; try again");
  return parsed.data.data.locations.map((l) => l.id).filter((id) => canAccessLocation(who, id));
}

export function exportsSchema(ports: SidecarPorts, config: ExportConfig): GraphQLSchema {
  const key = signingKey(ports);
  /** The link of the claims: signed, expiring, naming the member (checked again at download). */
  const signLink = async (
    ctx: { request?: Request },
    who: Identity,
    claims: Omit<LinkClaims, "iat" | "sub">,
  ) => {
    const token = jwt.sign(claims, await key(), {
      algorithm: "HS256",
      expiresIn: config.EDGE_EXPORT_LINK_TTL_S,
      audience: AUDIENCE,
      issuer: ISSUER,
      jwtid: randomUUID(),
      ...(who.userId ? { subject: who.userId } : {}),
    });
    const path = `/api/v1/exports/${token}`;
    return {
      url: `${publicOrigin(ctx.request)}${path}`,
      path,
      expiresAt: new Date(Date.now() + config.EDGE_EXPORT_LINK_TTL_S * 1000).toISOString(),
    };
  };
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
          const { from, to } = exportRange(input);
          if (!canAccessLocation(who, locationId))
            throw new AppError("FORBIDDEN", "no access to this location", { field: "locationId" });
          // NOT_FOUND for another tenant's location (auth answers within the caller's tenant).
          await fetchLocation(ports, who, locationId);
          return signLink(ctx, who, { kind: input.kind, tid: who.tenantId, loc: locationId, from, to });
        },
        requestChainExport: async (
          _: unknown,
          args: { input: unknown },
          ctx: EdgeContext & { request?: Request },
        ) => {
          const who: Identity = ctx.identity();
          if (who.role !== "owner" && who.role !== "manager")
            throw new AppError("FORBIDDEN", "the whole-chain export is for owners and managers");
          const input = ChainExportInput.parse(args.input);
          const { from, to } = exportRange(input);
          const locs = await branchesInScope(ports, ctx);
          if (locs.length === 0) throw new AppError("NOT_FOUND", "no branch in your scope");
          if (locs.length > MAX_CHAIN_BRANCHES)
            throw new AppError(
              "BAD_USER_INPUT",
              `a chain export covers at most ${MAX_CHAIN_BRANCHES} branches (yours: ${locs.length}); export branches one by one`,
              { max: MAX_CHAIN_BRANCHES },
            );
          return signLink(ctx, who, { kind: input.kind, tid: who.tenantId, locs, from, to });
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
  if (token.length > MAX_LINK_LENGTH) throw new AppError("TOKEN_INVALID", "not an export link");
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
    const track = trackExport(claims.kind);
    let sent = false;
    const chain = claims.locs !== undefined;
    try {
      // Each location's time zone (the services write each order's local time beside the UTC
      // one) and name; a chain goes branch after branch by name, each row naming its branch.
      const locations = await Promise.all(
        (claims.locs ?? [claims.loc ?? ""]).map((id) => fetchLocation(ports, { tenantId: claims.tid }, id)),
      );
      if (chain) locations.sort((a, b) => a.name.localeCompare(b.name, "vi") || a.id.localeCompare(b.id));
      const slices = locations.flatMap((location) =>
        daySlices(claims.from, claims.to, kind.sliceDays).map((days) => ({ location, ...days })),
      );
      for (const slice of slices) {
        const query = new URLSearchParams({
          locationId: slice.location.id,
          from: slice.from,
          to: slice.to,
          header: String(!sent),
          timeZone: slice.location.timeZone,
          ...(chain ? { locationName: slice.location.name } : {}),
        });
        let upstream: Response | undefined;
        try {
          upstream = await invokeService(ports, kind.app, kind.method, {
            query: `?${query.toString()}`,
            headers: systemHeaders(claims.tid),
            timeoutMs: SLICE_TIMEOUT_MS,
            // A slice can be long: its rows go on to the client as they come.
            stream: true,
          });
        } catch (err) {
          if (!sent) throw err;
        }
        if (!upstream?.ok || !upstream.body) {
          log.error(
            { kind: claims.kind, status: upstream?.status, locationId: slice.location.id, from: slice.from },
            "export slice refused",
          );
          if (!sent) throw new AppError("UNAVAILABLE", "the export could not be read; try again");
          track.end("cut");
          res.destroy();
          return;
        }
        if (!sent) {
          res.status(200);
          res.setHeader("content-type", "text/csv; charset=utf-8");
          res.setHeader(
            "content-disposition",
            `attachment; filename="${kind.file}${chain ? "_chain" : ""}_${claims.from}_${claims.to}.csv"`,
          );
          res.setHeader("cache-control", "private, no-store");
          sent = true;
        }
        try {
          await pipeline(
            Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>),
            countBytes(track.bytes),
            res,
            { end: false },
          );
        } catch (err) {
          log.warn(
            { err, kind: claims.kind, locationId: slice.location.id, from: slice.from },
            "export transfer cut",
          );
          track.end("cut");
          res.destroy();
          return;
        }
      }
    } catch (err) {
      track.end(sent ? "cut" : "refused");
      throw err;
    }
    track.end("ok");
    res.end();
    log.info(
      {
        kind: claims.kind,
        tenantId: claims.tid,
        ...(chain ? { branches: claims.locs?.length } : { locationId: claims.loc }),
        ms: Date.now() - started,
      },
      "export served",
    );
  });
}
