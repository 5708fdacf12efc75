#!/bin/sh
# What a CI job runs: a failure scenario against the sample client, then
# the reports CI systems show.
#
# Usage: samples/ci/run-scenario.sh [BUILD_DIR] [CLIENT]
#   BUILD_DIR  the Meson build directory (default ./build)
#   CLIENT     fetch_retry (default: the scenario passes) or fetch_once
#              (it fails, and the reports say why)
#
# Writes into $REPORT_DIR (default socktrace-report/; not SOCKTRACE_REPORT_DIR:
# the shim warns about SOCKTRACE_ names it does not know): trace/
# (the trace of the run), report.md (Markdown, also appended to
# $GITHUB_STEP_SUMMARY when set) and junit.xml (one test case per check).
# Exits with socktrace run's status: 0 when every expectation holds, 122
# when one fails, else the client's own failure status.
set -eu

build=${1:-./build}
client=${2:-fetch_retry}
here=$(cd "$(dirname "$0")" && pwd)
scenario=$(cd "$here/.." && pwd)/scenarios/retry.scn
tool=$build/viewer/socktrace
out=${REPORT_DIR:-socktrace-report}

for f in "$tool" "$build/samples/$client" "$build/samples/tcp_server"; do
	if [ ! -x "$f" ]; then
		echo "run-scenario: missing $f (build first: meson setup $build && ninja -C $build)" >&2
		exit 2
	fi
done
mkdir -p "$out"
# A fresh trace directory: the verdict must not count an older run's calls.
rm -rf "$out/trace"

status=0
"$tool" run -o "$out/trace" -s "$scenario" -- "$here/service-check.sh" "$build/samples/$client" ||
	status=$?
"$tool" report --scenario "$scenario" --format=markdown -o "$out/report.md" "$out/trace"
"$tool" report --scenario "$scenario" --format=junit -o "$out/junit.xml" "$out/trace"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	cat "$out/report.md" >>"$GITHUB_STEP_SUMMARY"
fi
echo "run-scenario: exit status $status; reports: $out/report.md, $out/junit.xml" >&2
exit "$status"
