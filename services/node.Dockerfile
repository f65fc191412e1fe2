# syntax=docker/dockerfile:1
# Every TypeScript app (auth, sales, dashboard, payments, notifications, edge): one Dockerfile,
# the app named by a build argument. Build from the repository root (npm workspaces):
#   docker build -f services/node.Dockerfile --build-arg APP=sales -t lsp/sales .
# Stages: `build` compiles the app and the workspace packages it uses to JavaScript (tsc -b,
# the same project references as `npm run build`) and bundles the app into one file with its
# telemetry preload (scripts/build-bundles.ts: dist/bundle/); `deps` installs this app's production
# dependencies only; `dev` is the inner loop's image (below); the final image holds those and the
# bundle (the app, its migrations and the preload: no workspace package's dist/), and runs
# `node --import ./dist/bundle/telemetry.mjs dist/bundle/src/main.mjs`: no TypeScript, no tsx, no dev
# dependencies. It runs as a non-root user and writes nothing at run time (the chart sets
# readOnlyRootFilesystem).
# The ai service (Python) has its own: services/ai/Dockerfile.
ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG APP
RUN test -n "${APP}" || { echo "name the app: --build-arg APP=<auth|sales|dashboard|payments|notifications|edge>" >&2; exit 1; }
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json apps.yaml ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/runtime/package.json packages/runtime/
COPY packages/dapr/package.json packages/dapr/
COPY packages/identity/package.json packages/identity/
COPY packages/db/package.json packages/db/
COPY packages/graphql/package.json packages/graphql/
COPY packages/locations/package.json packages/locations/
COPY packages/flags/package.json packages/flags/
COPY services/${APP}/package.json services/${APP}/
# This app's dependencies and the root's dev dependencies (TypeScript, esbuild) to build it.
RUN npm ci --workspace=@lsp/${APP} --include-workspace-root --ignore-scripts --no-audit --no-fund --loglevel=error
# Every workspace package's sources (small); tsc compiles only those the app references.
# Only the bundle is shipped (dist/bundle: the app, its migrations, the preload); the packages' and
# the app's compiled dist/ are its input.
COPY packages packages
COPY scripts/app-manifest.ts scripts/build-bundles.ts scripts/
COPY services/${APP} services/${APP}
RUN npx --no tsc -b services/${APP}/tsconfig.build.json \
  && npx --no tsx scripts/build-bundles.ts ${APP} \
  && rm services/${APP}/dist/bundle/inputs.json

# The inner loop only (Tilt, Skaffold: `--target dev`): sources and dev dependencies, run by tsx
# (tsconfig.json's paths point the workspace packages at their sources); the chart's devLoop adds
# `watch`. Never shipped.
FROM build AS dev
ARG APP
ENV NODE_ENV=development APP_HOST=0.0.0.0 APP_PORT=8080 SERVICE_NAME=${APP} OTEL_SERVICE_NAME=${APP}
WORKDIR /app/services/${APP}
USER 1000:1000
EXPOSE 8080
CMD ["/app/node_modules/.bin/tsx", "--import", "@lsp/runtime/telemetry", "src/main.ts"]

FROM ${NODE_IMAGE} AS deps
ARG APP
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/runtime/package.json packages/runtime/
COPY packages/dapr/package.json packages/dapr/
COPY packages/identity/package.json packages/identity/
COPY packages/db/package.json packages/db/
COPY packages/graphql/package.json packages/graphql/
COPY packages/locations/package.json packages/locations/
COPY packages/flags/package.json packages/flags/
COPY services/${APP}/package.json services/${APP}/
# Production dependencies of this app and the workspace packages it names; npm may nest some in a
# workspace's own node_modules, so those folders are made to exist for the copy below.
RUN npm ci --omit=dev --workspace=@lsp/${APP} --ignore-scripts --no-audit --no-fund --loglevel=error \
  && for p in packages/*; do mkdir -p "$p/node_modules"; done && mkdir -p services/${APP}/node_modules

FROM ${NODE_IMAGE}
ARG APP
ENV NODE_ENV=production APP_HOST=0.0.0.0 APP_PORT=8080 SERVICE_NAME=${APP} OTEL_SERVICE_NAME=${APP}
WORKDIR /app
COPY --from=deps --chown=root:root /app/package.json ./
COPY --from=deps --chown=root:root /app/node_modules node_modules
# The workspace packages' package.json and production dependencies (npm may nest one there); their
# code is in the bundle.
COPY --from=deps --chown=root:root /app/packages packages
COPY --from=deps --chown=root:root /app/services/${APP}/package.json services/${APP}/
COPY --from=deps --chown=root:root /app/services/${APP}/node_modules services/${APP}/node_modules
COPY --from=build --chown=root:root /app/services/${APP}/dist/bundle services/${APP}/dist/bundle
WORKDIR /app/services/${APP}
# The `node` user of the base image, by number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.APP_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "./dist/bundle/telemetry.mjs", "dist/bundle/src/main.mjs"]
