import type { Express } from "express";
import type { MenuItemChanged } from "@lsp/contracts";
import { subscriptionRoute } from "@lsp/dapr";
import type { Logger } from "@lsp/runtime";

/**
 * sales' `menu.item.changed` (topic `menu`, subscription `edge-menu` through `pubsub-fanout`, so
 * every edge replica gets it): the ids whose cached answers a menu change makes stale. A change
 * at one location names that location; a tenant-wide one (a new item, a new price) may change the
 * menu of any of the tenant's locations, so it names the tenant, whose id every cached answer of
 * that tenant carries (graphql-front.ts).
 */
export function idsStaleAfter(change: MenuItemChanged): string[] {
  return [change.itemId, change.locationId ?? change.tenantId];
}

/** Mounts the delivery route; `onChange` drops what the change made stale. */
export function mountMenuEvents(app: Express, log: Logger, onChange: (ids: string[]) => Promise<void>): void {
  subscriptionRoute(
    app,
    "/events/menu",
    { "menu.item.changed": (_id, e) => onChange(idsStaleAfter(e)) },
    log,
  );
}
