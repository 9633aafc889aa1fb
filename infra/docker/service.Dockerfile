# One parametrized container build for the three WebStore services.
#
#   docker build -f infra/docker/service.Dockerfile --build-arg SERVICE=order-service --build-arg PORT=8080 .
#
# The build context is the repository root (compose sets it); `service.Dockerfile.dockerignore`
# beside this file keeps target/, data/ and .git out of it.

# ---- build: the whole workspace is needed for Cargo to resolve one member -------------------
FROM rust:1.95.0-bookworm AS build
ARG SERVICE
WORKDIR /src
COPY . .
# The cache mounts keep the registry and target/ between builds (BuildKit, the default builder);
# the binary is copied out of the cached target/ so the next stage can see it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    test -n "${SERVICE}" \
    && cargo build --release --locked --bin "${SERVICE}" \
    && mkdir -p /out \
    && cp "target/release/${SERVICE}" /out/

# ---- runtime: Debian slim, the same libc the binary was linked against ------------------------
FROM debian:12.11-slim
ARG SERVICE
ARG PORT
# Why curl: the Docker HEALTHCHECK must probe GET /healthz from inside the container, and the
# service binaries have no probe mode of their own (adding one would put container plumbing into
# every service's CLI). curl with --no-install-recommends adds a few hundred kB; Kubernetes does
# not use it (its probes are httpGet, see infra/k8s).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --create-home webstore \
    && mkdir -p /app/data \
    && chown webstore:webstore /app/data
COPY --from=build /out/${SERVICE} /usr/local/bin/${SERVICE}
WORKDIR /app
USER 10001:10001
ENV SERVICE=${SERVICE} \
    PORT=${PORT} \
    BIND_ADDR=0.0.0.0:${PORT} \
    OTEL_SERVICE_NAME=${SERVICE} \
    LOG_FORMAT=json
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/healthz" || exit 1
# `exec` replaces the shell, so the service is PID 1 and receives SIGTERM for its graceful shutdown.
ENTRYPOINT ["/bin/sh", "-c", "exec \"/usr/local/bin/${SERVICE}\" \"$@\"", "--"]
