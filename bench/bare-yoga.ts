// The baseline of `npm run bench:edge`: graphql-yoga alone on node:http, answering the mobile
// dashboard query (`location(id) { todayRevenue todayOrders }`) from a static resolver — no
// Express, no auth, no stitching, no cache. Started by bench/edge.ts as a child process:
//   node --import tsx bench/bare-yoga.ts <port>
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

const port = Number(process.argv[2]);
const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type Location {
        id: ID!
        todayRevenue: Float!
        todayOrders: Int!
      }
      type Query {
        location(id: ID!): Location
      }
    `,
    resolvers: {
      Query: {
        location: (_: unknown, { id }: { id: string }) => ({ id, todayRevenue: 1_250_000, todayOrders: 42 }),
      },
    },
  }),
  graphiql: false,
  landingPage: false,
  logging: false,
});
// Yoga answers through the promise it returns; nothing to wait for here.
createServer((req, res) => void yoga(req, res)).listen(port, "127.0.0.1", () => process.send?.("ready"));
process.on("SIGTERM", () => process.exit(0));
