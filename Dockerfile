# mailconf container image: `docker build -t mailconf .` (Fly.io builds it from fly.toml).
# Three stages: `build` compiles TypeScript with the dev dependencies, `deps` installs the
# production dependencies only (and compiles better-sqlite3's native addon where no
# prebuilt binary fits), and the last, unnamed stage is what runs: Node, node_modules from
# `deps`, dist/ from `build`, and the files the server and the CLI read at run time.
# Node 20 is the one the project supports (package.json "engines"); better-sqlite3 stays on
# major 12, the line that builds for it.
#
#   docker run -p 8080:8080 -e MAILCONF_DIRECTORY=postgres://... -e MAILCONF_SECRET=... mailconf
#
# The single-machine SQLite variant (a volume at /data) builds the `volume` stage instead:
# docs/fly-sqlite.md.

FROM node:20-bookworm-slim AS base
WORKDIR /app

# ---- build: dist/ from src/, with the dev dependencies (TypeScript, types) ----
FROM base AS build
COPY package.json package-lock.json ./
# --ignore-scripts: the root "prepare" script would compile src/, which is not copied yet
# (this layer stays cached until the lockfile changes). The compiler needs no native addon,
# so better-sqlite3's install step is not needed here either.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production node_modules only ----
FROM base AS deps
# better-sqlite3's install step downloads a prebuilt addon for this Node and libc, and
# compiles it with node-gyp when none matches: that needs python3, make and g++, here only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# No dependency's install script runs but the one that must: better-sqlite3 is the only
# production package with one (test/deploy.test.ts checks that against the lockfile).
RUN npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3

# ---- the image as mailconf runs from it, also in SQLite-on-a-volume form ----
FROM base AS app
ENV NODE_ENV=production \
    PORT=8080 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
# Application files stay root-owned: the service (user node) can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json: the version (mailconf --version, the build-info metric) and the `mailconf`
# bin for npx; bin/: the CLI (release_command, `fly ssh console -C ...`); templates/: read
# once at start-up; data/: demo.json, the seed of a new SQLite directory.
COPY package.json package-lock.json ./
COPY bin ./bin
COPY templates ./templates
COPY data ./data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# ---- volume: the single-machine SQLite variant (fly.toml [build] build-target = "volume") ----
# A freshly mounted volume is owned by root and SQLite must create files there. Started as
# root, the entrypoint hands /data to `node`, then drops to `node` with setpriv (util-linux,
# in the base image) and execs the service, so no root process remains. Started as another
# user (docker run --user ...), it execs the service directly.
FROM app AS volume
ENV MAILCONF_DIRECTORY=sqlite:/data/directory.db
RUN mkdir -p /data && chown node:node /data
ENTRYPOINT ["/bin/sh", "-c", "if [ \"$(id -u)\" = 0 ]; then chown -R node:node /data && exec setpriv --reuid=node --regid=node --init-groups -- \"$@\"; fi; exec \"$@\"", "entrypoint"]
CMD ["node", "dist/server.js"]

# ---- the default target: the fleet (PostgreSQL directory, no volume) ----
# Runs as the unprivileged user `node` of the base image, and so do the release command and
# `fly ssh console -u node -C ...`. The directory, the secret and Redis come from the
# environment (fly.toml [env] and `fly secrets`).
FROM app
USER node
CMD ["node", "dist/server.js"]
