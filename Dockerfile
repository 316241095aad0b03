# syntax=docker/dockerfile:1
# keywarden as a container image: one static binary, nothing else. gix reads repositories
# itself, so the final image needs neither git nor a shell.
#
#   docker build -t keywarden .                  # the default image (FROM scratch)
#   docker build --target ci -t keywarden:ci .   # with a shell, for CI systems that run
#                                                # `script:` lines in the job image (GitLab)

FROM rust:1-alpine AS build
# musl-dev: the C runtime mimalloc's build links against. Versions float with the base image
# on purpose (the Rust toolchain does too); the binary is what gets pinned, by Cargo.lock.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /build
COPY . .
# The Rust target on Alpine is musl, which links statically by default. The caches keep
# registry downloads and build outputs between builds; the binary is copied out of the cache
# mount in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    cargo build --release --locked --bin keywarden \
    && cp target/release/keywarden /keywarden \
    && /keywarden --version

# For CI systems whose jobs run shell lines inside the image (GitLab CI): the same binary on
# the PATH of a minimal Alpine. Published as the `ci` tag.
FROM alpine:3.22 AS ci
COPY --from=build /keywarden /usr/local/bin/keywarden
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/keywarden"]
CMD ["scan", "."]

# The default image (last stage): the binary alone, run as a non-root user.
FROM scratch
COPY --from=build /keywarden /keywarden
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/keywarden"]
CMD ["scan", "."]
