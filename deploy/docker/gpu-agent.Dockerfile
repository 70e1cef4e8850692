# DecodeFleet gpu-agent: the per-node daemon, on the CUDA 13.0 runtime.
#
# Build context: the folder holding the distribution tarball (deploy/dist/target after
# `mvn -pl deploy/dist -am package`); gpu-agent.Dockerfile.dockerignore sends only the tarball.
#   docker build -f deploy/docker/gpu-agent.Dockerfile --build-arg VERSION=0.1.0-SNAPSHOT \
#     -t REGISTRY/decodefleet/gpu-agent:0.1.0-SNAPSHOT deploy/dist/target
#
# Why the runtime flavour of the CUDA image and not base: kernels go through the driver API (libcuda,
# mounted by the NVIDIA container toolkit), but NCCL (libnccl.so.2) and cuBLASLt are opened at run
# time and ship only in the runtime image. CUDA 13.0 matches the nvcc that builds the kernel fatbin;
# it needs a 580 or newer driver on the node.

ARG VERSION=0.1.0-SNAPSHOT

# Stage 1: unpack the distribution. ADD extracts a local .tar.xz itself, so this stage needs no tools.
FROM debian:12.12-slim AS unpack
ARG VERSION
ADD decodefleet-${VERSION}-linux-x86_64.tar.xz /unpack/
# One fixed path for the final stage, and a build that fails here if the layout is not the expected one.
RUN mv /unpack/decodefleet-${VERSION} /opt/decodefleet \
 && test -x /opt/decodefleet/runtime/bin/java \
 && test -x /opt/decodefleet/bin/gpu-agent \
 && ls /opt/decodefleet/lib/*.jar > /dev/null

# Stage 2: the CUDA runtime, the distribution's own Java runtime and jars, nothing to build with.
FROM nvidia/cuda:13.0.1-runtime-ubuntu24.04
# A fixed numeric user so Kubernetes can verify runAsNonRoot; 10001 avoids the image's own uid 1000.
RUN groupadd --system --gid 10001 decodefleet \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin decodefleet
# Owned by root and read-only to the daemon's user.
COPY --from=unpack /opt/decodefleet/runtime /opt/decodefleet/runtime
COPY --from=unpack /opt/decodefleet/lib /opt/decodefleet/lib
COPY --from=unpack /opt/decodefleet/bin/gpu-agent /opt/decodefleet/bin/gpu-agent
# Heap from the container's memory limit; most of an agent's host memory is off-heap (pinned buffers).
ENV JAVA_OPTS="-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
WORKDIR /tmp
# 2552: Pekko cluster (Artery TCP, or TLS with --cluster-tls); 8558: Pekko Management (/alive, /ready,
# /metrics, Cluster Bootstrap); docs/security.md
EXPOSE 2552 8558
ENTRYPOINT ["/opt/decodefleet/bin/gpu-agent"]
