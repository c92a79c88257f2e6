# syntax=docker/dockerfile:1
# One image for the api and worker services of docker-compose.yml; the command picks the role:
#   api:    node --import tsx scripts/api.ts     (HTTP API, also serves the built Studio from web/dist)
#   worker: node --import tsx scripts/worker.ts  (Temporal worker)

FROM node:20-bookworm-slim AS build
WORKDIR /app

# The postinstall step generates the Prisma client from prisma/, so the sources are copied before `npm ci`.
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

RUN npm run build:web

# Development tools (vite, jest, the Prisma CLI) are not needed at run time; the generated client stays.
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
WORKDIR /app

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/var/lib/novart-studio

# The application files stay owned by root, so the process cannot modify its own code.
COPY --from=build /app /app
RUN mkdir -p /var/lib/novart-studio && chown node:node /var/lib/novart-studio

USER node
EXPOSE 3000

# tsx runs the TypeScript entry points in the Node process itself, so signals reach the application directly.
CMD ["node", "--import", "tsx", "scripts/api.ts"]
