# modelhost's container image: `modelhost serve` on TF Serving's ports (REST
# 8501, gRPC 8500), with TF Serving's image conventions (MODEL_NAME,
# MODEL_BASE_PATH=/models, extra flags appended), so commands written for the
# tensorflow/serving image work with this one. docs/DEPLOY.md has the details.
#
#   docker build -t modelhost:0.1.0 .
#   docker run -p 8501:8501 -p 8500:8500 -v /tmp/resnet:/models/resnet -e MODEL_NAME=resnet modelhost:0.1.0

# Build: dependencies (better-sqlite3 compiles here), then TypeScript and the
# console (npm ci runs the package's prepare script, `npm run build`, so the
# sources are copied first).
FROM node:20-bookworm AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Run: Node and the built server only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The server reads dist/, runtime/proto and proto/ (.proto schemas), and package.json at run time.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/proto ./proto
COPY --from=build /app/runtime/proto ./runtime/proto
# The example model (f_mnist), served by the Helm chart's default values.
COPY --from=build /app/models ./models
COPY deploy/docker/entrypoint.sh /usr/local/bin/modelhost-entrypoint
RUN ln -s /app/bin/modelhost.js /usr/local/bin/modelhost \
    && chmod 0755 /app/bin/modelhost.js /usr/local/bin/modelhost-entrypoint \
    && mkdir -p /models /app/data /var/lib/modelhost /var/cache/modelhost \
    && chown -R node:node /app/data /app/models /var/lib/modelhost /var/cache/modelhost

# TF Serving's image variables and defaults.
ENV GRPC_PORT=8500 \
    PORT=8501 \
    MODEL_BASE_PATH=/models \
    MODEL_NAME=model
EXPOSE 8500 8501
# Uid/gid 1000 (the node user), as the Kubernetes manifests' securityContext expects. Writable: /app/data
# (the default SQLite registry), /app/models (the default --models_dir, for uploads), /var/lib/modelhost.
USER node
ENTRYPOINT ["modelhost-entrypoint"]
