# Shared by bin/coordinator and bin/gpu-agent (sourced, not run).

decodefleet_find_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    DECODEFLEET_JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    DECODEFLEET_JAVA="$(command -v java)"
  else
    echo "decodefleet: no Java found: install a JDK 17 or newer, or set JAVA_HOME" >&2
    exit 2
  fi
}

# Builds with Maven when the coordinator's runtime classpath is missing or any source is newer.
decodefleet_build_if_needed() {
  local root="$1"
  local stamp="$root/coordinator/target/lib/.built"
  decodefleet_find_java
  if [ -f "$stamp" ] && [ -z "$(find "$root/pom.xml" "$root"/*/pom.xml "$root"/*/src -newer "$stamp" -type f -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    echo "decodefleet: the project is not built and Maven (mvn) is not installed" >&2
    exit 2
  fi
  echo "building DecodeFleet (first use, about a minute)…" >&2
  local log="$root/target-build.log"
  # Only what the launchers run: the distribution tarball (deploy/dist) is built by `mvn package`.
  if ! (cd "$root" && mvn -B -q -DskipTests package -pl coordinator -am) >"$log" 2>&1; then
    echo "decodefleet: the build failed; see $log" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  rm -f "$log"
  touch "$stamp"
}

decodefleet_classpath() {
  local root="$1" module="$2"
  echo "$root/$module/target/classes:$root/$module/target/lib/*"
}
