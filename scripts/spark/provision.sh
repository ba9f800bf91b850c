#!/usr/bin/env bash
# Provision Apache Spark (with its Spark Connect server) from PyPI for the Spark tests.
#
# The pinned pyspark package ships Spark's jars, `bin/spark-class` and the Connect server jar
# (`jars/spark-connect_2.13-*.jar`), so a standalone master, a worker and the Connect server run
# from it on the machine's Java 17 without any other download.
#
# Usage: scripts/spark/provision.sh [--install-java]
#   --install-java   if `java` (17 or newer) is missing, install Debian's openjdk-17-jre-headless
#                    with apt-get (needs root); CI uses this.
# Environment:
#   SRO_SERVICES_DIR   install under $SRO_SERVICES_DIR/spark
#                      (default: ${XDG_CACHE_HOME:-$HOME/.cache}/sro-toolkit/spark)
#
# Idempotent: a second run finds the finished install and returns at once. The last line printed
# is `SPARK_HOME=<path>`; the Rust test harness (`spark_connect::testing`) finds the same path by
# the same rule, so no variable needs exporting.
set -euo pipefail

PYSPARK_VERSION="4.1.1"

install_java=0
for arg in "$@"; do
    case "$arg" in
        --install-java) install_java=1 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "provision.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [[ -n "${SRO_SERVICES_DIR:-}" ]]; then
    base="$SRO_SERVICES_DIR/spark"
else
    base="${XDG_CACHE_HOME:-$HOME/.cache}/sro-toolkit/spark"
fi
target="$base/pyspark-$PYSPARK_VERSION"
spark_home="$target/pyspark"
marker="$target/.provisioned"

java_major() {
    # `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` on stderr.
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}

check_java() {
    if ! command -v java >/dev/null 2>&1; then
        if [[ "$install_java" == 1 ]]; then
            echo "provision.sh: installing openjdk-17-jre-headless (apt-get)"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
        else
            echo "provision.sh: java not found; Spark $PYSPARK_VERSION needs Java 17 or newer" \
                 "(Debian: apt-get install openjdk-17-jre-headless, or rerun with --install-java)" >&2
            exit 1
        fi
    fi
    local major
    major="$(java_major)"
    if [[ -z "$major" || "$major" -lt 17 ]]; then
        echo "provision.sh: java is version '${major:-unknown}'; Spark $PYSPARK_VERSION needs 17 or newer" >&2
        exit 1
    fi
    echo "java: $(java -version 2>&1 | head -n1)"
}

connect_jar() {
    compgen -G "$spark_home/jars/spark-connect_2.13-$PYSPARK_VERSION.jar" | head -n1
}

check_java

if [[ -f "$marker" && -n "$(connect_jar)" ]]; then
    echo "pyspark $PYSPARK_VERSION already provisioned in $target"
    echo "SPARK_HOME=$spark_home"
    exit 0
fi

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
    echo "provision.sh: $python not found (pip is used to fetch pyspark from PyPI)" >&2
    exit 1
fi

mkdir -p "$base"
# Install into a temporary folder and rename it when complete, so an interrupted run leaves no
# half-installed Spark behind.
staging="$(mktemp -d "$base/.staging-XXXXXX")"
trap 'rm -rf "$staging"' EXIT
echo "installing pyspark $PYSPARK_VERSION from PyPI into $target (about 450 MB; a few minutes)"
start=$SECONDS
# --no-deps: only Spark's JVM side is used (py4j is for Python drivers).
"$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --no-compile \
    --target "$staging" "pyspark==$PYSPARK_VERSION"

if ! compgen -G "$staging/pyspark/jars/spark-connect_2.13-$PYSPARK_VERSION.jar" >/dev/null; then
    echo "provision.sh: pyspark $PYSPARK_VERSION does not ship jars/spark-connect_2.13-$PYSPARK_VERSION.jar" >&2
    exit 1
fi
if [[ ! -x "$staging/pyspark/bin/spark-class" ]]; then
    echo "provision.sh: pyspark $PYSPARK_VERSION has no executable bin/spark-class" >&2
    exit 1
fi
date -u +%Y-%m-%dT%H:%M:%SZ > "$staging/.provisioned"
rm -rf "$target"
mv "$staging" "$target"
trap - EXIT
echo "installed in $((SECONDS - start)) s: $target"
echo "SPARK_HOME=$spark_home"
