import { z } from "zod";
import { EVENTS, type EventType } from "./events.js";

/** JSON Schema (draft 2020-12) of each event payload, keyed by CloudEvent type. */
export function eventJsonSchemas(): Record<EventType, unknown> {
  const out = {} as Record<EventType, unknown>;
  for (const [type, { schema, topic }] of Object.entries(EVENTS) as [
    EventType,
    (typeof EVENTS)[EventType],
  ][]) {
    out[type] = { ...z.toJSONSchema(schema, { target: "draft-2020-12" }), title: type, "x-topic": topic };
  }
  return out;
}
