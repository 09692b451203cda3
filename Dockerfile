# The API reference renderer (redoc) is a development dependency with a large tree of peers; the
# runtime image needs only its self-contained browser bundle, taken from a full install here.
FROM node:20-bookworm-slim AS docs-renderer
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
# The ops console (React + Vite) is built here, where the dev dependencies are, and copied in below.
COPY console console
COPY clients/ts clients/ts
RUN npm run console:build

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# npm's prepare runs it: without Vite (no dev dependencies) it skips the console build.
COPY console/prepare.ts console/prepare.ts
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=docs-renderer /build/node_modules/redoc/package.json node_modules/redoc/package.json
COPY --from=docs-renderer /build/node_modules/redoc/bundles/redoc.standalone.js node_modules/redoc/bundles/redoc.standalone.js
COPY . .
COPY --from=docs-renderer /build/dist/console dist/console
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
EXPOSE 3000
# ROLE=all (default), api or worker: scale the halves separately behind the same env.
# node itself as PID 1 (tsx as a loader): SIGTERM reaches app/start.ts's graceful shutdown directly.
CMD ["sh", "-c", "exec node --import tsx app/start.ts --role=${ROLE:-all}"]
