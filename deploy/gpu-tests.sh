#!/usr/bin/env bash
# The gpu-tagged JUnit tests on a GPU host that has no JDK: they run on the distribution's own
# runtime, from a bundle of the test classes built where Maven is.
#
#   deploy/gpu-tests.sh bundle OUT.tar.gz      # here, after `mvn package -DskipTests`
#   deploy/gpu-tests.sh run DIST_DIR BUNDLE    # on the GPU host, DIST_DIR = the unpacked tarball
#
# `run` executes every test class whose name ends in GpuTest (kernels, gpu-agent) with the JUnit
# console launcher; tests that need two GPUs, or no GPU, are reported as aborted by their
# assumptions. Its exit code is the launcher's: 0 when no test failed.
set -euo pipefail
CONSOLE_VERSION=1.14.4
CONSOLE=org/junit/platform/junit-platform-console-standalone/$CONSOLE_VERSION/junit-platform-console-standalone-$CONSOLE_VERSION.jar

usage() { echo "usage: $0 bundle OUT.tar.gz | run DIST_DIR BUNDLE.tar.gz" >&2; exit 2; }

case "${1:-}" in
  bundle)
    [ $# -eq 2 ] || usage
    root=$(cd "$(dirname "$0")/.." && pwd)
    for m in kernels gpu-agent; do
      [ -d "$root/$m/target/test-classes" ] || { echo "no $m/target/test-classes: run mvn package -DskipTests first" >&2; exit 2; }
    done
    repo=${MAVEN_REPOSITORY:-$HOME/.m2/repository}
    if [ ! -f "$repo/$CONSOLE" ]; then
      mvn -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$CONSOLE_VERSION
    fi
    stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage/gpu-tests/classes"
    cp -r "$root/kernels/target/test-classes" "$stage/gpu-tests/classes/kernels"
    cp -r "$root/gpu-agent/target/test-classes" "$stage/gpu-tests/classes/gpu-agent"
    cp "$repo/$CONSOLE" "$stage/gpu-tests/junit-console.jar"
    tar czf "$2" -C "$stage" gpu-tests
    echo "wrote $2 ($(du -h "$2" | cut -f1)); on the GPU host: $0 run DIST_DIR $(basename "$2")"
    ;;
  run)
    [ $# -eq 3 ] || usage
    dist=$(cd "$2" && pwd)
    [ -x "$dist/runtime/bin/java" ] || { echo "$dist is not an unpacked distribution (no runtime/bin/java)" >&2; exit 2; }
    work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
    tar xzf "$3" -C "$work"
    t=$work/gpu-tests
    cp=$(ls "$dist"/lib/*.jar | tr '\n' ':')$t/classes/kernels:$t/classes/gpu-agent
    "$dist/runtime/bin/java" -jar "$t/junit-console.jar" execute --disable-banner --details tree \
      --class-path "$cp" --scan-class-path "$t/classes/gpu-agent:$t/classes/kernels" --include-classname '.*GpuTest$'
    ;;
  *) usage ;;
esac
