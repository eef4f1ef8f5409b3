# syntax=docker/dockerfile:1
# One image for every role (ROLE=api|worker|all). Build: docker build -t mori-webhook-receiver .

# --- build: compile TypeScript with the dev dependencies ---
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only, non-root, tini as PID 1 ---
FROM node:26-bookworm-slim AS runtime
# tini forwards SIGTERM to Node and reaps zombies, so graceful shutdown works as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
# Heap sizing measured with `npm run bench` / `bench:pipeline` on Node 26 (README, "Memory"): V8 sizes
# its young generation and old-space growth from the host's RAM, which let the api reach ~230 MB
# and the worker ~270 MB on a 24 GiB host; these two flags hold both near 150 MB at ~5 % GC cost,
# and make the footprint independent of the node's size.
# HOST: a container must listen on every interface (the service's own default is loopback only).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=256" \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# data/ holds the default file sink's output; mount a volume there to keep it.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# Node itself answers the probe: the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
