# DecodeFleet coordinator: the benchmark (`coordinator --world-size N ...`) and the gRPC API
# (`coordinator serve ...`). No CUDA: the coordinator never touches a GPU.
#
# Build context: the folder holding the distribution tarball (deploy/dist/target after
# `mvn -pl deploy/dist -am package`); coordinator.Dockerfile.dockerignore sends only the tarball.
#   docker build -f deploy/docker/coordinator.Dockerfile --build-arg VERSION=0.1.0-SNAPSHOT \
#     -t REGISTRY/decodefleet/coordinator:0.1.0-SNAPSHOT deploy/dist/target
#
# The base has no Java: the distribution carries its own runtime (jlink, built on Debian 12, glibc 2.34
# symbols at most). The same Debian release as that build keeps the runtime's shared libraries
# (libfreetype, libharfbuzz, liblcms2, libjpeg62) at the versions it was linked against.

ARG VERSION=0.1.0-SNAPSHOT

# Stage 1: unpack the distribution. ADD extracts a local .tar.xz itself, so this stage needs no tools.
FROM debian:12.12-slim AS unpack
ARG VERSION
ADD decodefleet-${VERSION}-linux-x86_64.tar.xz /unpack/
# One fixed path for the final stage, and a build that fails here if the layout is not the expected one.
RUN mv /unpack/decodefleet-${VERSION} /opt/decodefleet \
 && test -x /opt/decodefleet/runtime/bin/java \
 && test -x /opt/decodefleet/bin/coordinator \
 && ls /opt/decodefleet/lib/*.jar > /dev/null

# Stage 2: run-time libraries only. The PNG charts of the report render text headless: the runtime's
# font manager needs FreeType, HarfBuzz, fontconfig and one font; colour conversion needs lcms2.
FROM debian:12.12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      fontconfig fonts-dejavu-core libfreetype6 libharfbuzz0b libjpeg62-turbo liblcms2-2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 decodefleet \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin decodefleet
# Owned by root and read-only to the coordinator's user.
COPY --from=unpack /opt/decodefleet/runtime /opt/decodefleet/runtime
COPY --from=unpack /opt/decodefleet/lib /opt/decodefleet/lib
COPY --from=unpack /opt/decodefleet/bin/coordinator /opt/decodefleet/bin/coordinator
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
WORKDIR /tmp
# 2552: Pekko cluster (TLS with --cluster-tls); 8558: Pekko Management; 9464: /metrics (--metrics-port);
# 8000: OpenAI HTTP API and 50051: gRPC API (coordinator serve; TLS with --tls-cert); docs/security.md
EXPOSE 2552 8000 8558 9464 50051
ENTRYPOINT ["/opt/decodefleet/bin/coordinator"]
