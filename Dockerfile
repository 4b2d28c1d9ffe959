# syntax=docker/dockerfile:1
#
# allstacks-cd as a container image: one static (musl) binary on distroless/static, which
# brings CA certificates, /tmp and a non-root user and nothing else (no shell).
#
#   docker build -t allstacks-cd .                      # the default, minimal image
#   docker build --target alpine -t allstacks-cd:alpine .  # with a shell, for CI jobs
#   docker run --rm -e ALLSTACKS_SERVICE_ID=1 -e ALLSTACKS_COMMIT_SHA=... \
#     -e ALLSTACKS_REPO_NAME=org/repo allstacks-cd report --dry-run --status success
#
# The webhook relay (docs/relay.md) runs from the same image; it listens on 0.0.0.0:8080 here
# and keeps its queue on a volume:
#
#   docker run -d -p 8080:8080 -v allstacks-relay:/var/lib/allstacks-cd \
#     -e ALLSTACKS_OUTBOX=/var/lib/allstacks-cd/relay -e ALLSTACKS_URL=... \
#     -e ALLSTACKS_COMPANY_ID=... -e ALLSTACKS_TOKEN=... -e ALLSTACKS_SERVICE_ID=... \
#     -e ALLSTACKS_GITHUB_SECRET=... allstacks-cd serve

ARG RUST_VERSION=1
ARG ALPINE_VERSION=3.22

# Fully qualified names: a runtime with other registries configured (podman's search list,
# a mirror) cannot resolve a short name to another image.
FROM docker.io/library/rust:${RUST_VERSION}-alpine AS build
# gcc and musl-dev build the C parts (ring, the bundled libgit2 and zlib) against musl; Rust
# links musl targets statically, so the binary runs on any Linux of the same architecture.
# The packages follow the Alpine release of the base image; pinning their versions would
# break the build at every Alpine point release.
# hadolint ignore=DL3018
RUN apk add --no-cache gcc musl-dev
WORKDIR /src
# Everything but what .dockerignore leaves out (target/, .git/, CI and docs files).
COPY . .
RUN cargo build --release --locked --bin allstacks-cd \
    && cp target/release/allstacks-cd /allstacks-cd \
    && /allstacks-cd --version \
    && mkdir -p /state

# A variant with a shell, e.g. as a GitLab CI job image (with `entrypoint: [""]`). It keeps
# Alpine's root user, like other CI job images, so the runner can write its build directory.
FROM docker.io/library/alpine:${ALPINE_VERSION} AS alpine
# CA roots: the newest of the release, as above.
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates
COPY --from=build /allstacks-cd /usr/local/bin/allstacks-cd
ENTRYPOINT ["/usr/local/bin/allstacks-cd"]
CMD ["--help"]

# The default image: last stage.
FROM gcr.io/distroless/static-debian12:nonroot AS final
LABEL org.opencontainers.image.title="allstacks-cd" \
      org.opencontainers.image.description="Report CI/CD jobs (deployments) to the Allstacks Custom CD webhook" \
      org.opencontainers.image.source="https://github.com/allstacks-cd/allstacks-cd" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /allstacks-cd /usr/local/bin/allstacks-cd
# Undeliverable reports go to $XDG_STATE_HOME/allstacks-cd/outbox unless ALLSTACKS_OUTBOX
# names a mounted volume.
ENV XDG_STATE_HOME=/tmp/state
# `serve`: every interface of the container (only `serve` reads it; the default outside a
# container is 127.0.0.1:8080), and a directory of the nonroot user, private, for the volume
# that keeps the relay's queue (a new named volume takes its owner and mode). No VOLUME line:
# every `report` would leave an anonymous volume behind.
ENV ALLSTACKS_LISTEN=0.0.0.0:8080
COPY --from=build --chown=65532:65532 --chmod=700 /state /var/lib/allstacks-cd
EXPOSE 8080
# distroless's nonroot user, by number: Kubernetes' runAsNonRoot can only verify a numeric
# user, and no passwd lookup is needed.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/allstacks-cd"]
CMD ["--help"]
