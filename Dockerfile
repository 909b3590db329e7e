# syntax=docker/dockerfile:1
# One image for the TypeScript services (market-feeder, news-feeder, watchlist-api, influxdb-tasks
# installer); compose picks the entry point. Build with dev dependencies, ship only production ones.
ARG NODE_IMAGE=node:20.18.1-bookworm-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY common/package.json common/
COPY testing/package.json testing/
COPY feeders/package.json feeders/
COPY watchlist-api/package.json watchlist-api/
COPY grafana/package.json grafana/
COPY influxdb-tasks/package.json influxdb-tasks/

FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.base.json ./
COPY common/ common/
COPY feeders/ feeders/
COPY watchlist-api/ watchlist-api/
COPY influxdb-tasks/ influxdb-tasks/
RUN npx tsc -b common feeders watchlist-api influxdb-tasks

# Production dependencies of the shipped workspaces only (no test servers, no dashboards SDK).
FROM manifests AS deps
RUN npm ci --no-audit --no-fund --omit=dev \
      --workspace=@mt/common --workspace=@mt/feeders --workspace=@mt/watchlist-api --workspace=@mt/influxdb-tasks \
    && npm cache clean --force

# The `demo` compose profile's stand-ins for the internet (bench/demo-sources.ts): the build stage's full
# dependencies (tsx) with the protocol-true servers of @mt/testing and their recorded payloads. Never part of
# the runtime image below; built only with `--profile demo`.
FROM build AS demo
COPY testing/ testing/
COPY bench/replay.ts bench/flood.ts bench/demo-sources.ts bench/
USER node
EXPOSE 9101-9107
CMD ["node", "--conditions=source", "--import", "tsx", "bench/demo-sources.ts"]

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/common/package.json common/
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/feeders/package.json feeders/
COPY --from=build /app/feeders/dist feeders/dist
COPY --from=build /app/watchlist-api/package.json watchlist-api/
COPY --from=build /app/watchlist-api/dist watchlist-api/dist
COPY --from=build /app/watchlist-api/migrations watchlist-api/migrations
COPY --from=build /app/influxdb-tasks/package.json influxdb-tasks/
COPY --from=build /app/influxdb-tasks/dist influxdb-tasks/dist
USER node
# Each service serves /healthz; compose sets the healthcheck per service.
CMD ["node", "watchlist-api/dist/server.js"]
