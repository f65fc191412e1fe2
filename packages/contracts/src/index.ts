export * from "./events.js";
export * from "./ai-answers.js";
export { answerJsonSchemas, eventJsonSchemas } from "./json-schemas.js";
export { businessDay, DEFAULT_TIME_ZONE, DEFAULT_CUTOVER_HOUR } from "./business-day.js";
