# mailconf container image: `docker build -t mailconf .`
#   docker run -p 8080:8080 -v mailconf-data:/data mailconf
# The directory lives in /data (mount a volume there); a new one starts with the demo accounts.

# ---- build: TypeScript -> dist/, better-sqlite3's native addon, production node_modules ----
FROM node:20-bookworm-slim AS build
# better-sqlite3 uses a prebuilt binary when one matches, else compiles with node-gyp.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the "prepare" script would compile src/, which is not copied yet (this
# layer stays cached until the lockfile changes). better-sqlite3 is the one dependency with
# an install step; rebuild runs it.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# ---- runtime ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MAILCONF_DIRECTORY=sqlite:/data/directory.db \
    PORT=8080
WORKDIR /app
# Application files stay root-owned: the service (user node) can read them, not change them.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY templates ./templates
COPY data/demo.json ./data/demo.json
RUN mkdir -p /data && chown node:node /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The service runs as the unprivileged user `node`. Started as root (the default, and how
# Fly.io starts it), the entrypoint first hands /data to `node` -- a freshly mounted volume
# is owned by root and SQLite must create files there -- then drops to `node` with setpriv
# (util-linux, part of the base image) and execs the service, so no root process remains.
# Started as a non-root user (docker run --user ...), it execs the service directly.
# One-off commands (`fly ssh console -C "node bin/mailconf.js import /data/accounts.json"`)
# run as root; any file they leave in /data is handed back to `node` at the next start.
ENTRYPOINT ["/bin/sh", "-c", "if [ \"$(id -u)\" = 0 ]; then chown -R node:node /data && exec setpriv --reuid=node --regid=node --init-groups -- \"$@\"; fi; exec \"$@\"", "entrypoint"]
CMD ["node", "dist/server.js"]
