# syntax=docker/dockerfile:1
# One image for every Gantry action: a static musl `gantry` on an empty, shell-less base.
#
#   docker build -t gantry .                    # the action image (what action.yml builds)
#   docker build --target nonroot -t gantry .   # the same binary as uid 65532, for CI images and clusters
#
# Why the action image runs as root: GitHub runs container actions with the workspace and the
# runner's file-command folder mounted from the host, owned by the runner's user, and documents
# that a docker action "must be run by the default Docker user (root)" — with a USER line the
# action cannot write GITHUB_OUTPUT or read GITHUB_WORKSPACE. The base has no shell, no package
# manager and nothing but the binary, so root inside it can do little beyond what gantry does.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --package gantry --target x86_64-unknown-linux-musl \
 && install -m 0555 target/x86_64-unknown-linux-musl/release/gantry /gantry \
 && /gantry --version

# For uses outside GitHub Actions (docker run, Kubernetes jobs): not root.
FROM gcr.io/distroless/static-debian12:nonroot AS nonroot
COPY --from=build /gantry /usr/local/bin/gantry
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gantry"]

# The container action (last stage, so `image: Dockerfile` builds it).
FROM gcr.io/distroless/static-debian12:latest AS action
COPY --from=build /gantry /usr/local/bin/gantry
ENTRYPOINT ["/usr/local/bin/gantry"]
