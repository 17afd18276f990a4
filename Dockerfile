# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
# The sample webhooks `ticket-relay try` posts.
COPY test/fixtures ./test/fixtures
USER node
EXPOSE 8080
# Healthy when either the ingest port (roles all, ingest) or a worker's ops port answers /healthz.
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "const up=(p)=>fetch('http://127.0.0.1:'+p+'/healthz').then(r=>{if(!r.ok)throw r.status});Promise.any([up(process.env.PORT||8080),up(process.env.OPS_PORT||9464)]).then(()=>process.exit(0),()=>process.exit(1))"
# exec form: the relay is PID 1 and receives SIGTERM itself, so it can finish in-flight deliveries.
ENTRYPOINT ["node", "bin/ticket-relay.js"]
CMD ["serve"]
