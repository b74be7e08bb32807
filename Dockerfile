# User Service container image (docs/operations.md "Deployment").
# Build: docker build -t user-service .
#
# Two stages on Debian 12, so the image holds the binary and its shared libraries only:
#   build   — the same commands as the README and CI: scripts/install-deps.sh installs the `build`
#             group of scripts/packages.txt, then `make build` (the README's build target) compiles.
#             No second recipe that could drift: tests/deploy/dockerfile_test.py checks it.
#   runtime — the `runtime` group of scripts/packages.txt (the shared libraries the binary links,
#             checked by the same test), a non-root user, and nothing else.

FROM debian:12-slim AS build
WORKDIR /src
# The dependency list first, so the package layer is cached until the list changes.
COPY scripts/install-deps.sh scripts/packages.txt scripts/
RUN bash scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make build BUILD_DIR=/build
# Debug info stays in the build stage; the runtime image gets the stripped binary.
RUN strip --strip-debug --output-file=/user-service /build/user-service

FROM debian:12-slim AS runtime
COPY scripts/install-deps.sh scripts/packages.txt /tmp/deps/
RUN bash /tmp/deps/install-deps.sh runtime && rm -rf /var/lib/apt/lists/* /tmp/deps
# A fixed numeric UID/GID so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
RUN groupadd --system --gid 10001 user-service \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin user-service \
 && mkdir -p /app/data && chown 10001:10001 /app/data
COPY --from=build /user-service /usr/local/bin/user-service
# Fail the image build, not the first start, when a shared library is missing.
RUN if ldd /usr/local/bin/user-service | grep -q 'not found'; then \
      ldd /usr/local/bin/user-service; exit 1; fi
WORKDIR /app
# Listen on every interface inside the container; everything else comes from the environment
# (docs/configuration.md). No .env is baked in: ENV_FILE points at a path that does not exist
# unless mounted.
ENV HOST=0.0.0.0 \
    PORT=8000 \
    ENV_FILE=/app/.env
USER 10001:10001
EXPOSE 8000
# `user-service healthcheck` GETs /health/live on $PORT: no curl needed in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["user-service", "healthcheck"]
# Exec form: the service is PID 1 and receives SIGTERM itself, so it drains (docs/operations.md,
# "Graceful shutdown (drain)").
STOPSIGNAL SIGTERM
ENTRYPOINT ["user-service"]
CMD ["serve"]
