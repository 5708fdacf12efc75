#!/usr/bin/env bash
# Fuzzes the rule parser and the trace reader with libFuzzer, each for a
# bounded time.
#
#   tests/robust/run-fuzz.sh DIR SECONDS
#       DIR: a build directory with -Dfuzz=true. If it does not exist it
#       is set up (CC=clang meson setup DIR -Dfuzz=true); the fuzz targets
#       are built; then fuzz_rules and fuzz_trace run side by side, SECONDS
#       each. Each starts from its seed corpus (tests/robust/fuzz/corpus/
#       NAME), the crashes saved before (tests/robust/fuzz/regressions/NAME,
#       run first) and what earlier runs found (DIR/fuzz-corpus/NAME, kept).
#   tests/robust/run-fuzz.sh --one FUZZER SECONDS
#       One target already built (what `meson test --suite fuzz` runs).
#
# Exit status 0 when nothing was found; 1 when something was; 2 when the
# fuzzers cannot be built or run. Each crash, leak, timeout or broken
# property is saved in DIR/fuzz-artifacts/NAME/ and also printed in base64
# (a CI machine's files are gone when it ends): put the file into
# tests/robust/fuzz/regressions/NAME/ (the robust suite then replays it on
# every run, with any compiler: robust-fuzz-replay), and fix the bug.
# Reproduce one with: DIR/tests/robust/fuzz_NAME FILE. The next run of
# this script empties DIR/fuzz-artifacts/ first.
#
# Needs clang with libFuzzer: Debian packages clang and libclang-rt-dev.
set -euo pipefail

src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)

usage() {
	echo "usage: $0 DIR SECONDS | $0 --one FUZZER SECONDS" >&2
	exit 2
}

is_number() {
	case "$1" in
	'' | *[!0-9]*) return 1 ;;
	esac
	[ "$1" -gt 0 ]
}

# fuzz BINARY NAME SECONDS WORK_CORPUS ARTIFACTS LOG: one target; returns
# libFuzzer's status (0: nothing found).
fuzz() {
	local bin=$1 name=$2 secs=$3 work=$4 art=$5 log=$6
	local regress="$src/fuzz/regressions/$name" seeds="$src/fuzz/corpus/$name"
	local -a cmd
	if [ ! -d "$seeds" ]; then
		echo "run-fuzz: no seed corpus $seeds" >"$log"
		return 2
	fi
	# Artifacts are this run's only (copy the ones to keep, see above).
	rm -rf "$art"
	mkdir -p "$work" "$art"
	cmd=("$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048
		-max_len=16384 -print_final_stats=1 -close_fd_mask=1
		-artifact_prefix="$art/" "$work" "$seeds")
	# The saved crashes are inputs like the others: run before any fuzzing.
	if [ -d "$regress" ]; then
		cmd+=("$regress")
	fi
	"${cmd[@]}" >"$log" 2>&1
}

# report NAME STATUS ARTIFACTS LOG: prints the outcome; returns 0 when
# nothing was found.
report() {
	local name=$1 status=$2 art=$3 log=$4 stats f
	stats=$(grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' "$log" |
		tail -n 2 | tr '\n' ' ' || true)
	if [ "$status" -eq 0 ]; then
		# A run that executed nothing proves nothing.
		if ! grep -q '^stat::number_of_executed_units: *[1-9]' "$log"; then
			echo "fuzz_$name: FAILED: libFuzzer ran no input (log: $log)"
			tail -n 20 "$log" | sed 's/^/    /'
			return 1
		fi
		echo "fuzz_$name: nothing found. $stats"
		return 0
	fi
	echo "fuzz_$name: FOUND A PROBLEM (status $status). $stats"
	grep -E 'ERROR: |SUMMARY: |property broken|Test unit written|^  ' "$log" |
		head -n 20 | sed 's/^/    /' || true
	for f in "$art"/*; do
		[ -e "$f" ] || continue
		echo "    saved input: $f"
		echo "    add it to the regressions: cp '$f' '$src/fuzz/regressions/$name/'"
		echo "    or, from this log (no machine to copy from): the lines between the markers"
		echo "    into: base64 -d >tests/robust/fuzz/regressions/$name/$(basename "$f")"
		echo "----- base64 of $(basename "$f") -----"
		base64 <"$f" | head -n 300
		echo "----- end -----"
	done
	echo "    full log: $log"
	return 1
}

if [ "${1:-}" = "--one" ]; then
	[ $# -eq 3 ] && is_number "$3" || usage
	bin=$2
	[ -x "$bin" ] || { echo "run-fuzz: $bin is not an executable" >&2; exit 2; }
	name=$(basename "$bin")
	name=${name#fuzz_}
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/socktrace-fuzz-$name.XXXXXX")
	status=0
	fuzz "$bin" "$name" "$3" "$tmp/corpus" "$tmp/artifacts" "$tmp/log" || status=$?
	if report "$name" "$status" "$tmp/artifacts" "$tmp/log"; then
		rm -rf "$tmp"
		exit 0
	fi
	exit 1
fi

[ $# -eq 2 ] && is_number "$2" || usage
dir=$1
secs=$2

if ! command -v clang >/dev/null; then
	echo "run-fuzz: clang is not installed (Debian packages clang and libclang-rt-dev)" >&2
	exit 2
fi
if [ ! -f "$dir/build.ninja" ]; then
	echo "run-fuzz: setting up $dir (clang, -Dfuzz=true)"
	setup_log=$(mktemp "${TMPDIR:-/tmp}/run-fuzz-setup.XXXXXX")
	if ! CC=${CC:-clang} meson setup "$dir" "$root" -Dfuzz=true >"$setup_log" 2>&1; then
		cat "$setup_log" >&2
		rm -f "$setup_log"
		echo "run-fuzz: meson setup failed (fuzzing needs clang with libFuzzer: Debian packages clang and libclang-rt-dev)" >&2
		exit 2
	fi
	rm -f "$setup_log"
elif ! grep -q 'fuzz_rules' "$dir/build.ninja"; then
	echo "run-fuzz: turning on -Dfuzz=true in $dir"
	meson configure "$dir" -Dfuzz=true || exit 2
fi
if ! meson compile -C "$dir" tests/robust/fuzz_rules tests/robust/fuzz_trace >/dev/null 2>&1; then
	meson compile -C "$dir" tests/robust/fuzz_rules tests/robust/fuzz_trace || true
	echo "run-fuzz: building the fuzz targets failed (libFuzzer: Debian package libclang-rt-dev)" >&2
	exit 2
fi
dir=$(cd "$dir" && pwd)

echo "run-fuzz: fuzz_rules and fuzz_trace, $secs s each, side by side"
declare -A pid_of
for name in rules trace; do
	fuzz "$dir/tests/robust/fuzz_$name" "$name" "$secs" "$dir/fuzz-corpus/$name" \
		"$dir/fuzz-artifacts/$name" "$dir/fuzz-$name.log" &
	pid_of[$name]=$!
done
status=0
for name in rules trace; do
	st=0
	wait "${pid_of[$name]}" || st=$?
	report "$name" "$st" "$dir/fuzz-artifacts/$name" "$dir/fuzz-$name.log" || status=1
done
exit "$status"
