export { FLAGS_STORE, FlagTable, liveFlags, type EvaluatedFlag, type FlagSubject } from "./flags.js";
