import { z } from "zod";
import { AI_ANSWERS } from "./ai-answers.js";
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

/** JSON Schema (draft 2020-12) of each AI actor answer, keyed by its name (`ai.answer.*`). */
export function answerJsonSchemas(): Record<keyof typeof AI_ANSWERS, unknown> {
  const out = {} as Record<keyof typeof AI_ANSWERS, unknown>;
  for (const [name, schema] of Object.entries(AI_ANSWERS) as [keyof typeof AI_ANSWERS, z.ZodType][])
    out[name] = { ...z.toJSONSchema(schema, { target: "draft-2020-12" }), title: name };
  return out;
}
