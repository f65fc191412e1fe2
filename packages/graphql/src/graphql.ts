import type { Express } from "express";
import { GraphQLError } from "graphql";
import { createSchema, createYoga, type YogaInitialContext } from "graphql-yoga";
import { stitchingDirectives } from "@graphql-tools/stitching-directives";
import { libraryLogger, toAppError, type Logger } from "@lsp/runtime";

/**
 * Gives every GraphQL error an `extensions.code` from the shared error model; unexpected errors
 * become INTERNAL with no detail (logged), errors that already carry a code pass through.
 */
export function maskGraphQLError(log: Logger): (error: unknown) => Error {
  return (error) => {
    if (error instanceof GraphQLError && error.extensions?.code) return error;
    // Delegation through stitching wraps errors in GraphQLErrors; find the first one with a code
    // or the error that started it.
    let original: unknown = error;
    while (original instanceof GraphQLError && original.originalError && !original.extensions?.code) {
      original = original.originalError;
    }
    // graphql-js's own request errors (a variable of the wrong type or out of Int's range, a
    // required one missing) have no path and no cause: the client's mistake, in graphql-js's words.
    if (original instanceof GraphQLError && !original.originalError && !original.path) {
      return new GraphQLError(original.message, {
        ...(original.nodes ? { nodes: original.nodes } : {}),
        extensions: { code: "BAD_USER_INPUT" },
      });
    }
    if (original instanceof GraphQLError && original.extensions?.code) {
      return new GraphQLError(original.message, {
        ...(error instanceof GraphQLError && error.path ? { path: error.path } : {}),
        extensions: original.extensions,
      });
    }
    const appError = toAppError(original);
    if (appError.code === "INTERNAL") log.error({ err: original }, "resolver failed");
    const gqlError = error instanceof GraphQLError ? error : undefined;
    return new GraphQLError(appError.message, {
      ...(gqlError?.path ? { path: gqlError.path } : {}),
      ...(gqlError?.nodes ? { nodes: gqlError.nodes } : {}),
      extensions: { code: appError.code, ...appError.details },
    });
  };
}

const { stitchingDirectivesTypeDefs, stitchingDirectivesValidator } = stitchingDirectives();

export interface SubschemaOptions<Ctx> {
  typeDefs: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- resolver maps are typed per service
  resolvers: any;
  context: (initial: YogaInitialContext) => Ctx | Promise<Ctx>;
  log: Logger;
}

/**
 * Serves a service's GraphQL subschema at /graphql: its SDL (with stitching directives) is
 * published through `_sdl` so the edge can stitch it; errors carry `extensions.code`.
 */
export function mountSubschema<Ctx extends object>(app: Express, opts: SubschemaOptions<Ctx>): void {
  const typeDefs = `${stitchingDirectivesTypeDefs}\n${opts.typeDefs}\nextend type Query { _sdl: String! }`;
  const schema = stitchingDirectivesValidator(
    createSchema<Ctx>({
      typeDefs,
      resolvers: [opts.resolvers, { Query: { _sdl: () => typeDefs } }],
    }),
  );
  const yoga = createYoga<object, Ctx>({
    schema,
    context: opts.context,
    graphiql: false,
    landingPage: false,
    maskedErrors: { maskError: maskGraphQLError(opts.log) },
    logging: libraryLogger(opts.log, "yoga"),
  });
  app.use(yoga.graphqlEndpoint, yoga);
}
