#!/bin/sh
# The threaded tests under ThreadSanitizer: the shim built with
# -fsanitize=thread (gcc: libtsan is a shared library, so the shim can be
# preloaded into programs built with it too), preloaded into the threaded
# test programs built the same way. Any ThreadSanitizer report fails, as
# does a program that fails or a trace that misses records.
#
#   tests/robust/run-tsan.sh DIR
#
# DIR is set up if missing (meson setup DIR -Db_sanitize=thread
# -Db_lundef=false -Dtests=disabled; a sanitized build skips the preloading
# tests, so the programs are compiled here, into DIR/tsan-progs).
#
# Not run under TSan, for limits of TSan itself, not of the shim (they
# fail or hang without the shim as well): a thread started in the child of
# a fork from a multi-threaded process ("dup thread with used id"; so
# fork_storm), and signal handlers run at once during blocking calls (TSan
# defers them; so signal_send). Those run in the ordinary suites.
set -u

src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
cc=${CC:-gcc}

if [ ! -f "$dir/build.ninja" ]; then
	echo "run-tsan: setting up $dir"
	CC=$cc meson setup "$dir" "$root" -Db_sanitize=thread -Db_lundef=false \
		-Dtests=disabled >/dev/null || exit 2
fi
ninja -C "$dir" preload/libsocktrace.so >/dev/null || {
	ninja -C "$dir" preload/libsocktrace.so
	exit 2
}
dir=$(cd "$dir" && pwd)
shim="$dir/preload/libsocktrace.so"
progs="$dir/tsan-progs"
mkdir -p "$progs"
for p in robust/progs/hammer robust/progs/vfork_threads robust/progs/child_sock \
	robust/progs/forkers integration/progs/threads; do
	$cc -fsanitize=thread -g -O1 -D_GNU_SOURCE -pthread "$root/tests/$p.c" \
		-o "$progs/$(basename "$p")" || exit 2
done

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/socktrace-tsan.XXXXXX")

# check NAME EXPECTED_LINES EXPECTED_FILES PROG ARGS...: runs PROG under
# the shim; EXPECTED_LINES: lines of its own trace file (- to skip).
check() {
	name=$1 lines=$2 files=$3
	shift 3
	out="$work/$name"
	mkdir -p "$out"
	LD_PRELOAD="$shim" SOCKTRACE_OUT="$out/trace" \
		TSAN_OPTIONS="exitcode=66 halt_on_error=0 second_deadlock_stack=1" \
		timeout 300 "$@" >"$out/stdout" 2>"$out/stderr"
	status=$?
	why=""
	reports=$(grep -c 'WARNING: ThreadSanitizer' "$out/stderr")
	[ "$reports" -eq 0 ] || why="$why $reports ThreadSanitizer reports;"
	[ "$status" -eq 0 ] || why="$why status $status;"
	tail -n 1 "$out/stdout" | grep -qx done || why="$why the program did not finish;"
	nfiles=$(ls "$out/trace" 2>/dev/null | grep -c '\.jsonl$')
	[ "$nfiles" -eq "$files" ] || why="$why $nfiles trace files, expected $files;"
	if [ "$lines" != - ]; then
		main=$(ls "$out/trace"/*.jsonl 2>/dev/null | head -n 1)
		got=$(wc -l <"$main" 2>/dev/null || echo 0)
		[ "$got" -eq "$lines" ] || why="$why $got trace lines, expected $lines;"
		grep -q '"rec":"end".*"dropped":0' "$main" 2>/dev/null ||
			why="$why no end record with dropped 0;"
	fi
	if [ -z "$why" ]; then
		echo "ok    $name"
		passed=$((passed + 1))
	else
		echo "FAIL  $name:$why (kept: $out)"
		grep -A 30 'WARNING: ThreadSanitizer' "$out/stderr" | head -n 60 | sed 's/^/      /'
		failed=$((failed + 1))
	fi
}

# hammer: per thread a socketpair, N data calls, 2 closes; + header, end.
check hammer-socketpair $((2 + 8 * (20000 + 3))) 1 "$progs/hammer" 8 20000
# With TCP: per thread getsockname, socket, connect, accept, N, 2 closes;
# main: socket, bind, listen, close.
check hammer-tcp $((2 + 4 + 8 * (10000 + 6))) 1 "$progs/hammer" 8 10000 --tcp
# tests/integration's threads, without its forks: socketpair, 2N, 2 closes.
check threads $((2 + 8 * (2 * 5000 + 3))) 1 "$progs/threads" 8 5000 0
# vfork + exec and posix_spawn while 4 threads hammer: 20 children ran.
check vfork-threads - 21 "$progs/vfork_threads" 4 30 "$progs/child_sock"
# 50 forked children, 3 connections each, to a server thread.
check forkers - 51 "$progs/forkers" 50 3

[ "$failed" -eq 0 ] && rm -rf "$work"
echo "run-tsan: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
