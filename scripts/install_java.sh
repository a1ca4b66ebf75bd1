#!/bin/sh
# `make java`: Debian's Java runtime (openjdk-17-jre-headless) for the Spark linkage backend (pyspark in local
# mode needs Java 17+; workbench.linkage.spark_backend, tests/test_linkage_spark.py).
# Non-interactive as root, or as another user through passwordless sudo (`sudo -n`, never a prompt).
# When it cannot install, it prints ONE warning line and exits 0 (DuckDB stays the default backend and the
# Spark backend says why it cannot start), unless CI is set, where a missing Java fails the build.
set -u

java_ok() {
    # a java on PATH (or under JAVA_HOME) whose major version is 17 or later
    java=""
    if [ -n "${JAVA_HOME:-}" ] && [ -x "${JAVA_HOME}/bin/java" ]; then java="${JAVA_HOME}/bin/java"
    elif command -v java >/dev/null 2>&1; then java=java
    else return 1; fi
    major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
    [ -n "$major" ] && [ "$major" -ge 17 ]
}

give_up() {
    echo "warning: Java 17+ not installed ($1); the Spark linkage backend and its tests cannot run" >&2
    if [ -n "${CI:-}" ]; then exit 1; fi
    exit 0
}

java_ok && exit 0

. "${0%/*}/apt_install.sh"
apt_install "Spark linkage backend" "openjdk-17-jre-headless" \
    "no apt-get: install a Java 17+ runtime and set JAVA_HOME to it"
java_ok || give_up "apt-get installed openjdk-17-jre-headless but no java 17+ is on PATH"
