# GreenGrader: one image for every process (bridge, orchestrator worker, node worker).
#   docker build -t greengrader:0.1.0 .
#   docker run --rm greengrader:0.1.0 bridge | worker --orchestrator | worker --node NAME
# TypeScript runs through tsx, a runtime dependency, so there is no build step and no dev dependencies.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lockfile changes. Without a compiler, the optional
# native speed-ups of ssh2 (dockerode's dependency) are skipped and their JavaScript fallbacks used.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src
COPY drizzle ./drizzle
COPY config ./config

# The image's unprivileged `node` user (uid 1000). A node worker also needs the Docker socket: run it with the
# group that owns /var/run/docker.sock on the host (`stat -c %g /var/run/docker.sock`), e.g.
# `docker run --group-add "$(stat -c %g /var/run/docker.sock)" -v /var/run/docker.sock:/var/run/docker.sock …`
# (docker-compose.yml does this with DOCKER_GID). That group is root-equivalent on the host: trust the image.
USER node

ENTRYPOINT ["node", "--import", "tsx", "src/cli/main.ts"]
CMD ["--help"]
