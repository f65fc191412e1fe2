export { mountSubschema, maskGraphQLError, type SubschemaOptions } from "./graphql.js";
export { VndScalar, MAX_VND, parseVnd, serializeVnd } from "./vnd.js";
