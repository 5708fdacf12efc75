#!/bin/sh
# Runs the TCP and the UDP sample pairs under the shim and draws what it
# recorded with `socktrace view`: the classic socket diagram, from a real run.
#
# Usage: samples/run-demo.sh [--installed] [BUILD_DIR]
#                                           (default ./build; builds nothing)
#   --installed  the installed copy: the shim by its bare name,
#                LD_PRELOAD=libsocktrace.so, and socktrace from $PATH; only
#                the sample programs come from BUILD_DIR
#
# The trace is left in a fresh directory (printed at the end) for a closer
# look. Exits non-zero if any step fails.
set -eu

installed=
if [ "${1:-}" = --installed ]; then
	installed=1
	shift
fi
build=${1:-./build}
if [ ! -d "$build" ]; then
	echo "run-demo: no build directory $build (run: meson setup build && ninja -C build)" >&2
	exit 1
fi
# Absolute: the programs must find the shim whatever their working directory.
build=$(cd "$build" && pwd)
if [ -n "$installed" ]; then
	# The loader finds it by name (ldconfig ran when it was installed).
	shim=libsocktrace.so
	if ! tool=$(command -v socktrace); then
		echo "run-demo: --installed: no socktrace in PATH" >&2
		exit 1
	fi
	echo "== the installed copy: $tool, LD_PRELOAD=$shim"
	built=
else
	# The SONAME's file: the libsocktrace.so link beside it is made by
	# meson setup, and a build directory older than the SONAME loses it.
	shim=$build/preload/libsocktrace.so.1
	tool=$build/viewer/socktrace
	built="$shim $tool"
fi
for f in $built "$build/samples/tcp_server" "$build/samples/tcp_client" \
	"$build/samples/udp_server" "$build/samples/udp_client"; do
	if [ ! -e "$f" ]; then
		echo "run-demo: missing $f (run: ninja -C $build)" >&2
		exit 1
	fi
done

trace=$(mktemp -d "${TMPDIR:-/tmp}/socktrace-demo.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/socktrace-demo-work.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

traced() {
	LD_PRELOAD=$shim SOCKTRACE_OUT=$trace "$@"
}

# Starts a server with port 0 in the background; sets server_pid, and port
# to the port it reports on its "listening on PORT" line. (Not run in a
# $(...) subshell: the server must be this shell's child to be waited for.)
start_server() {
	out=$work/$1.out
	: >"$out"
	traced "$build/samples/$1" 0 1 >"$out" &
	server_pid=$!
	i=0
	while ! grep -q '^listening on ' "$out"; do
		if ! kill -0 "$server_pid" 2>/dev/null || [ "$i" -ge 100 ]; then
			echo "run-demo: $1 did not start" >&2
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$out")
}

wait_server() {
	if ! wait "$server_pid"; then
		server_pid=
		echo "run-demo: $1 failed" >&2
		exit 1
	fi
	server_pid=
}

for proto in tcp udp; do
	start_server "${proto}_server"
	echo "== $proto: ${proto}_client 127.0.0.1 $port 'hello from the demo'"
	traced "$build/samples/${proto}_client" 127.0.0.1 "$port" 'hello from the demo'
	wait_server "${proto}_server"
done

# The flow diagram: client and server side by side, one trace per run.
echo
echo "== socktrace view (both runs merged: a TCP pair, then a UDP pair)"
"$tool" view --format text --color never --width 110 "$trace"
echo
echo "trace kept in $trace"
