export * from "./events.js";
export * from "./ai-answers.js";
export { answerJsonSchemas, eventJsonSchemas } from "./json-schemas.js";
export { businessDay, DEFAULT_TIME_ZONE, DEFAULT_CUTOVER_HOUR } from "./business-day.js";
export { notificationRecipientOf } from "./recipients.js";
export {
  FLAG_CATALOGUE,
  FLAG_KEYS,
  FlagDefinition,
  RuleValue,
  evaluateFlag,
  isFlagKey,
  parseItemKey,
  rolloutBucket,
  ruleItemKey,
  type FlagInputs,
  type FlagKey,
  type ParsedItemKey,
  type RuleScope,
} from "./flags.js";
