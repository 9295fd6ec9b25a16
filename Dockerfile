# The Cairn image: the server `cairn`, the CLI `cairnctl`, the operator `cairn-operator` (and the load
# generator `cairn-bench`) on one Node.js runtime. The operator runs members with `command: [cairn]` and its
# Jobs with `cairnctl` and `sh -c '… cairnctl …'`, all as uid/gid 65532 on a read-only root file system.
#
#   docker build -t ghcr.io/cairn-dev/cairn:0.1.0 --build-arg VERSION=0.1.0 .
#
# test/integration/image.test.ts checks this file without Docker: every COPY source exists in the build
# context and survives .dockerignore, and both stages are replayed in a temp dir (the build from the context
# alone, then the production-only install) before every entry point is run and a real server is started.
# It understands exactly the RUN commands used here; extend it when adding others.

# Node.js 24 (LTS until April 2028; its npm 11 is the major this repository is developed with). bookworm:
# Debian 12, the glibc (2.36) the tests run on, and lmdb's prebuilt native binary needs glibc >= 2.34.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs its install script. lmdb's native part is a prebuilt binary in a
# per-platform optional package (@lmdb/lmdb-linux-x64, -arm64), loaded at run time; its install script only
# looks for it and falls back to node-gyp, which slim lacks (no compiler, no python). npm 11, which this
# repository is developed with, skips install scripts by default too.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
# The generated protobuf code (server/src/proto/gen) is committed: the build is tsc alone, no protoc.
COPY server/src ./server/src
COPY operator/src ./operator/src
RUN npm run build

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="cairn" \
      org.opencontainers.image.description="Cairn: a Raft + MVCC key-value store speaking the etcd v3 API, its etcdctl-compatible CLI and its Kubernetes operator" \
      org.opencontainers.image.source="https://github.com/cairn-dev/cairn" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
# A plain `docker run` gets a usable server: data on the volume, listening on every interface (the operator
# passes all of these as flags anyway).
ENV CAIRN_DATA_DIR=/var/lib/cairn/data \
    CAIRN_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 \
    CAIRN_LISTEN_PEER_URLS=http://0.0.0.0:2380 \
    CAIRN_LISTEN_METRICS_URLS=http://0.0.0.0:2381
WORKDIR /opt/cairn
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# The compiled code only: no sources, no tests (package.json stays: `cairn --version` reads it).
COPY --from=build /src/dist/server ./dist/server
COPY --from=build /src/dist/operator ./dist/operator
# The entry points are package.json's bin entries, linked onto PATH (each starts with `#!/usr/bin/env node`).
# /var/lib/cairn belongs to 65532 so that a fresh Docker volume mounted there is writable too.
RUN groupadd --gid 65532 cairn \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cairn \
 && chmod 0755 dist/server/src/cmd/cairn.js dist/server/src/cmd/cairnctl.js dist/server/src/cmd/cairn-bench.js dist/operator/src/cmd/cairn-operator.js \
 && ln -s /opt/cairn/dist/server/src/cmd/cairn.js /usr/local/bin/cairn \
 && ln -s /opt/cairn/dist/server/src/cmd/cairnctl.js /usr/local/bin/cairnctl \
 && ln -s /opt/cairn/dist/server/src/cmd/cairn-bench.js /usr/local/bin/cairn-bench \
 && ln -s /opt/cairn/dist/operator/src/cmd/cairn-operator.js /usr/local/bin/cairn-operator \
 && mkdir -p /var/lib/cairn \
 && chown 65532:65532 /var/lib/cairn \
 && chmod 0700 /var/lib/cairn
# Numeric, so that Kubernetes can check runAsNonRoot without a runAsUser.
USER 65532:65532
EXPOSE 2379 2380 2381
VOLUME ["/var/lib/cairn"]
ENTRYPOINT ["cairn"]
