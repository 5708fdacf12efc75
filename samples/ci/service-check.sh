#!/bin/sh
# A service check, as a CI job would run one: start the server, run one
# client request against it, stop the server. Exits with the client's
# status.
#
# Usage: samples/ci/service-check.sh CLIENT [SERVER]
#   CLIENT  fetch_retry or fetch_once (a path); run as CLIENT 127.0.0.1 PORT
#   SERVER  tcp_server (default: next to CLIENT)
set -eu

client=$1
server=${2:-$(dirname "$client")/tcp_server}
ready=$(mktemp "${TMPDIR:-/tmp}/service-check.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -f "$ready"
}
trap cleanup EXIT

# Port 0: the kernel picks a free one, the server prints it.
"$server" 0 1 >"$ready" &
server_pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$ready")
	[ -n "$port" ] && break
	sleep 0.05
done
if [ -z "$port" ]; then
	echo "service-check: the server did not start" >&2
	exit 1
fi

status=0
"$client" 127.0.0.1 "$port" || status=$?
exit "$status"
