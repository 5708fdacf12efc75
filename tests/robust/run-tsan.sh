#!/usr/bin/env bash
# The threaded tests under ThreadSanitizer: the shim built with
# -fsanitize=thread (gcc: libtsan is a shared library, so the shim can be
# preloaded into programs built with it too), preloaded into the threaded
# test programs built the same way. Any ThreadSanitizer report fails, as
# does a program that fails or a trace that misses records. CI runs it
# (.ci/run).
#
#   tests/robust/run-tsan.sh DIR
#
# DIR is set up if missing (meson setup DIR -Db_sanitize=thread
# -Db_lundef=false -Dtests=disabled; a sanitized build skips the preloading
# tests, so the programs are compiled here, into DIR/tsan-progs).
#
# Reports are symbolized after the run, not by TSan (TSAN_OPTIONS=
# symbolize=0): TSan's own symbolizer calls close() and open(), which are
# the shim's hooks, and deadlocks when that shows it a race inside its own
# report. tsan_filter.py names the frames with addr2line and applies
# tsan-suppressions.txt, where each entry says why (the seqlocks of the fd
# table and of the frame-name cache, which TSan cannot model, and one open
# bug). Suppressed reports are counted in the output of each check.
#
# First a canary: progs/race_canary.c has a planted data race, and the run
# fails unless ThreadSanitizer reports it and the check below counts it as
# a failure (so a broken TSan set-up cannot pass silently).
#
# Not run under TSan, for limits of TSan itself, not of the shim (they
# fail or hang without the shim as well): a thread started in the child of
# a fork from a multi-threaded process ("dup thread with used id"; so
# fork_storm), and signal handlers run at once during blocking calls (TSan
# defers them; so signal_send). Those run in the ordinary suites.
#
# Exit status: 0 all passed, 1 a check failed, 2 cannot build.
set -euo pipefail

src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
cc=${CC:-gcc}

if [ ! -f "$dir/build.ninja" ]; then
	echo "run-tsan: setting up $dir"
	if ! CC=$cc meson setup "$dir" "$root" -Db_sanitize=thread -Db_lundef=false \
		-Dtests=disabled >/dev/null; then
		echo "run-tsan: meson setup failed" >&2
		exit 2
	fi
fi
# The tool too: `socktrace cat` reads the binary traces back.
# The shim's target is its SONAME's file (the .so link is meson setup's).
if ! ninja -C "$dir" preload/libsocktrace.so.1 viewer/socktrace >/dev/null; then
	ninja -C "$dir" preload/libsocktrace.so.1 viewer/socktrace || true
	echo "run-tsan: building the shim and the tool failed" >&2
	exit 2
fi
dir=$(cd "$dir" && pwd)
shim="$dir/preload/libsocktrace.so.1"
tool="$dir/viewer/socktrace"
if ! nm -D "$shim" | grep ' U __tsan_' >/dev/null; then
	echo "run-tsan: $shim is not built with ThreadSanitizer (set $dir up with -Db_sanitize=thread)" >&2
	exit 2
fi
progs="$dir/tsan-progs"
mkdir -p "$progs"
for p in robust/progs/hammer robust/progs/vfork_threads robust/progs/child_sock \
	robust/progs/forkers robust/progs/race_canary integration/progs/threads; do
	if ! $cc -fsanitize=thread -g -O1 -D_GNU_SOURCE -pthread "$root/tests/$p.c" \
		-o "$progs/$(basename "$p")"; then
		echo "run-tsan: cannot build $p with -fsanitize=thread" >&2
		exit 2
	fi
done

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/socktrace-tsan.XXXXXX")

# verdict NAME EXPECTED_LINES EXPECTED_FILES ENV PROG ARGS...: runs PROG
# under the shim (ENV: one more VAR=VALUE for it, or -) and sets `why` to
# what went wrong (empty: nothing), `reports` to the number of TSan reports
# not suppressed (symbolized in $out/reports). EXPECTED_LINES: lines of
# the program's own trace file, as `socktrace cat` prints them (- to skip).
verdict() {
	local name=$1 lines=$2 files=$3 extra=$4 status=0 filter=0 all nfiles main got
	local -a env_words=()
	shift 4
	[ "$extra" = - ] || env_words=("$extra")
	out="$work/$name"
	mkdir -p "$out"
	timeout 300 env ${env_words[@]+"${env_words[@]}"} LD_PRELOAD="$shim" \
		SOCKTRACE_OUT="$out/trace" \
		TSAN_OPTIONS="exitcode=66 halt_on_error=0 symbolize=0 second_deadlock_stack=1 history_size=7" \
		"$@" >"$out/stdout" 2>"$out/stderr" || status=$?
	why=""
	all=$(grep -c 'WARNING: ThreadSanitizer' "$out/stderr" || true)
	python3 "$src/tsan_filter.py" "$out/stderr" "$src/tsan-suppressions.txt" \
		"$shim" "$progs"/* >"$out/reports" 2>&1 || filter=$?
	reports=$(grep -c 'WARNING: ThreadSanitizer' "$out/reports" || true)
	[ "$filter" -le 1 ] || why="$why tsan_filter.py failed ($filter);"
	[ "$filter" -eq 0 ] || [ "$reports" -gt 0 ] || why="$why tsan_filter.py reports nothing but failed;"
	[ "$reports" -eq 0 ] || why="$why $reports ThreadSanitizer reports;"
	# TSan's exitcode when it reported anything, suppressed here or not.
	[ "$status" -eq 0 ] || { [ "$status" -eq 66 ] && [ "$all" -gt 0 ]; } ||
		why="$why status $status;"
	tail -n 1 "$out/stdout" | grep -qx done || why="$why the program did not finish;"
	nfiles=$(find "$out/trace" -maxdepth 1 -name '*.trace' 2>/dev/null | wc -l)
	[ "$nfiles" -eq "$files" ] || why="$why $nfiles trace files, expected $files;"
	if [ "$lines" != - ]; then
		main=$(find "$out/trace" -maxdepth 1 -name '*.trace' 2>/dev/null | head -n 1)
		got=0
		if [ -n "$main" ]; then
			TSAN_OPTIONS=report_bugs=0 "$tool" cat "$main" >"$out/records" 2>"$out/cat-stderr" ||
				why="$why socktrace cat failed;"
			[ -s "$out/cat-stderr" ] && why="$why socktrace cat skipped records: $(head -c 300 "$out/cat-stderr");"
			got=$(wc -l <"$out/records")
		fi
		[ "$got" -eq "$lines" ] || why="$why $got trace records, expected $lines;"
		grep -q '"rec":"end".*"dropped":0' "$out/records" 2>/dev/null ||
			why="$why no end record with dropped 0;"
	fi
}

# check NAME EXPECTED_LINES EXPECTED_FILES ENV PROG ARGS...: must pass.
check() {
	local name=$1
	verdict "$@"
	if [ -z "$why" ]; then
		echo "ok    $name"
		passed=$((passed + 1))
	else
		echo "FAIL  $name:$why (kept: $out)"
		if [ "$reports" -gt 0 ]; then
			head -n 80 "$out/reports" | sed 's/^/      /'
		else
			tail -n 5 "$out/stderr" | sed 's/^/      /'
		fi
		failed=$((failed + 1))
	fi
	grep '^suppressed ' "$out/reports" | sed 's/^/      /' || true
}

# The canary: the planted race must be reported, and verdict must call it
# a failure. Its trace: header, 2 x (socketpair, 2000 data calls, 2
# closes), end.
verdict race-canary $((2 + 2 * (1 + 2000 + 2))) 1 - "$progs/race_canary"
if [ "$reports" -gt 0 ] && [ -n "$why" ] && grep -q 'work .*race_canary.c:' "$out/reports"; then
	echo "ok    race-canary: ThreadSanitizer reports the planted race, and that fails a check"
	passed=$((passed + 1))
else
	echo "FAIL  race-canary: the planted race in progs/race_canary.c was not reported" \
		"($reports reports; kept: $out): ThreadSanitizer is not working, a report would go unseen"
	tail -n 20 "$out/reports" | sed 's/^/      /'
	failed=$((failed + 1))
fi

# hammer: per thread a socketpair, N data calls, 2 closes; + header, end.
check hammer-socketpair $((2 + 8 * (20000 + 3))) 1 - "$progs/hammer" 8 20000
# With TCP: per thread getsockname, socket, connect, accept, N, 2 closes;
# main: socket, bind, listen, close.
check hammer-tcp $((2 + 4 + 8 * (10000 + 6))) 1 - "$progs/hammer" 8 10000 --tcp
# Fault rules that every thread's calls go through (their counters, the
# seeded draws): delays only, so the program and its records stay the same.
check hammer-faults $((2 + 8 * (5000 + 3))) 1 \
	"SOCKTRACE_FAULTS=send,recv prob=0.01 delay=1us; recv when=100+50 delay=1us" \
	"$progs/hammer" 8 5000
# Call stacks recorded from every thread (libunwind, loaded on demand).
check hammer-stacks $((2 + 4 * (2000 + 3))) 1 SOCKTRACE_BACKTRACE=4 "$progs/hammer" 4 2000
# tests/integration's threads, without its forks: socketpair, 2N, 2 closes.
check threads $((2 + 8 * (2 * 5000 + 3))) 1 - "$progs/threads" 8 5000 0
# vfork + exec and posix_spawn while 4 threads hammer: 20 children ran.
check vfork-threads - 21 - "$progs/vfork_threads" 4 30 "$progs/child_sock"
# 50 forked children, 3 connections each, to a server thread.
check forkers - 51 - "$progs/forkers" 50 3

if [ "$failed" -eq 0 ]; then
	rm -rf "$work"
fi
echo "run-tsan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
