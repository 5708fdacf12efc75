"""CPython's own socket tests, code nobody here wrote, give the same results
with the shim and tracing on as without it: the bounded subset of
cpython_compare.py (--quick: test_socket less its slow timeout tests,
test_socketserver, asyncio's socket and stream tests), both runs at once.
The full comparison is tests/robust/cpython-compare.sh BUILD_DIR.

Needs Debian's libpython3.11-testsuite (skips without it)."""

import os
import subprocess
import sys

import rtest
from rtest import check

HERE = os.path.dirname(os.path.abspath(__file__))


def test_cpython_socket_tests_quick(sb):
    deadline = int(os.environ.get("SOCKTRACE_TEST_TIMEOUT", "170")) - 25
    argv = [sys.executable, os.path.join(HERE, "cpython_compare.py"), "--quick",
            "--shim", rtest.sttest.SHIM, "--tool", rtest.tool(), "--out",
            os.path.join(sb.dir, "cpython"), "--deadline", str(deadline)]
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    r = subprocess.run(argv, capture_output=True, text=True, timeout=deadline + 15, env=env)
    print("\n".join("      " + line for line in r.stdout.splitlines()))
    if r.returncode == 77:
        rtest.skip("CPython's test suite is not installed (Debian package "
                   "libpython3.11-testsuite)")
    check(r.returncode == 0, "cpython_compare.py --quick: status %d\n%s\n%s"
          % (r.returncode, r.stdout[-3000:], r.stderr[-2000:]))


if __name__ == "__main__":
    rtest.main()
