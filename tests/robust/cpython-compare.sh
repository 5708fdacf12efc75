#!/usr/bin/env bash
# The full comparison of CPython's own socket tests with and without the
# shim (tests/robust/cpython_compare.py, the whole list): the same tests
# must pass and skip, and the trace of the run with the shim must be sound.
#
#   tests/robust/cpython-compare.sh BUILD_DIR [OUT_DIR]
#
# BUILD_DIR: a built tree (meson compile -C BUILD_DIR). OUT_DIR: keep the
# results, logs and trace there (by default they are removed when all is
# the same). Needs Debian's libpython3.11-testsuite. About 6 minutes on 2
# cores. Exit status: 0 same, 1 different, 2 cannot run, 77 no test suite.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
set -- "$py" "$here/cpython_compare.py" --shim "$build/preload/libsocktrace.so" \
	--tool "$build/viewer/socktrace" ${2:+--out "$2"}
PYTHONDONTWRITEBYTECODE=1 exec "$@"
