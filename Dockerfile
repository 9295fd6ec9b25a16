# The cairn image: the server (`cairn`) and the CLI (`cairnctl`) on Node 20.
# Build: docker build -t cairn:dev .
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY server ./server
COPY operator ./operator
COPY test ./test
COPY hack ./hack
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /opt/cairn
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/server ./dist/server
RUN ln -s /opt/cairn/dist/server/src/cmd/cairn.js /usr/local/bin/cairn \
 && ln -s /opt/cairn/dist/server/src/cmd/cairnctl.js /usr/local/bin/cairnctl \
 && chmod +x dist/server/src/cmd/*.js
ENV CAIRN_DATA_DIR=/var/lib/cairn \
    CAIRN_LISTEN_CLIENT_URLS=http://0.0.0.0:2379 \
    CAIRN_LISTEN_METRICS_URLS=http://0.0.0.0:2381
EXPOSE 2379 2380 2381
VOLUME /var/lib/cairn
ENTRYPOINT ["cairn"]
