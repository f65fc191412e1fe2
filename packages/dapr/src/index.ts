export {
  sidecarReady,
  sidecarFetch,
  invokeService,
  invocationAllowed,
  invokeActor,
  publishEvent,
  bulkPublishEvents,
  type BulkPublishEntry,
  type BulkPublishResult,
  invokeBinding,
  readSecret,
  stateStore,
  checkMethodPath,
  DAPR_TOKEN_HEADER,
  type SidecarPorts,
} from "./dapr.js";
export {
  subscriptionRoute,
  bulkSubscriptionRoute,
  type BulkEvent,
  type BulkStatus,
  type EventHandlers,
} from "./subscriptions.js";
