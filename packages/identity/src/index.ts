export {
  callerReader,
  serviceCallers,
  systemHeaders,
  canAccessLocation,
  SYSTEM_TENANT_HEADER,
  CALLER_APP_HEADER,
  type Caller,
  type CallerOf,
  type CallerReaderOptions,
  type Identity,
} from "./identity.js";
export {
  JwksCache,
  accessTokenVerifier,
  type AccessClaims,
  type AccessTokenVerifier,
  type SigningKeys,
} from "./access-token.js";
