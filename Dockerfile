# syntax=docker/dockerfile:1
# Gantry's side image: the release binary on an empty, shell-less base. The actions do not use
# it (they run the binary on the runner, see launcher/gantry.mjs); it is for
# `uses: docker://ghcr.io/<owner>/gantry@sha256:…` steps, `docker run` and Kubernetes jobs.
# Nothing is compiled here: the image copies a static musl binary built before it, for each
# platform from dist/linux-<arch>/gantry (the release workflow unpacks the published archives
# there). For a local image of the binary you just built:
#
#   cargo build --release --locked --package gantry --target x86_64-unknown-linux-musl
#   mkdir -p dist/linux-amd64 && cp target/x86_64-unknown-linux-musl/release/gantry dist/linux-amd64/
#   docker build --platform linux/amd64 -t gantry .                   # root, for container steps
#   docker build --platform linux/amd64 --target nonroot -t gantry .  # uid 65532
#
# Why the default image runs as root: GitHub runs container steps with the workspace and the
# runner's file-command folder mounted from the host, owned by the runner's user, and documents
# that a docker action "must be run by the default Docker user (root)" — with a USER line the
# step cannot write GITHUB_OUTPUT or read GITHUB_WORKSPACE. The base has no shell, no package
# manager and nothing but the binary, so root inside it can do little beyond what gantry does.

ARG BASE=gcr.io/distroless/static-debian12

# For uses outside GitHub Actions (docker run, Kubernetes jobs): not root.
FROM ${BASE}:nonroot AS nonroot
ARG TARGETARCH
COPY --chmod=0555 dist/linux-${TARGETARCH}/gantry /usr/local/bin/gantry
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gantry"]

# For container steps (last stage: what a plain `docker build` makes).
FROM ${BASE}:latest AS action
ARG TARGETARCH
COPY --chmod=0555 dist/linux-${TARGETARCH}/gantry /usr/local/bin/gantry
ENTRYPOINT ["/usr/local/bin/gantry"]
