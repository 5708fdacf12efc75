"""A process that gives up its identity keeps its trace. Servers drop root
after the fork (nginx's and PostgreSQL's workers become nobody or
postgres); the trace directory belongs to the user who started the run and
no other user may write in it, so a child that became nobody could not
create its file, and every byte its workers moved was missing from the
trace without a word. The shim now makes the file before setuid,
seteuid, setreuid or setresuid changes the user (preload/shim/
hook_identity.c). Needs root (skipped otherwise)."""

import os
import re

import sttest
from sttest import check, check_eq
from test_faults import run_py

# A server that forks a child per way of dropping root; each child becomes
# nobody, then connects back and sends its name. The parent prints what
# it received.
PY_DROP = r"""
import os, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(8)
l.settimeout(10)
port = l.getsockname()[1]
ways = {"setuid": lambda: os.setuid(65534),
        "seteuid": lambda: os.seteuid(65534),
        "setreuid": lambda: os.setreuid(65534, 65534),
        "setresuid": lambda: os.setresuid(65534, 65534, 65534)}
kids = {}
for name, drop in ways.items():
    pid = os.fork()
    if pid == 0:
        # No call on a socket before: it would make the file while root.
        os.setgid(65534)
        drop()
        assert os.geteuid() == 65534
        c = socket.socket()  # create_connection would import what nobody cannot read
        c.connect(("127.0.0.1", port))
        c.sendall(name.encode())
        c.close()
        os._exit(0)
    kids[pid] = name
    s, _ = l.accept()
    print("got", s.recv(64).decode(), flush=True)
    s.close()
    os.waitpid(pid, 0)
for pid, name in kids.items():
    print("child", pid, name, flush=True)
"""


def test_children_that_drop_root_are_traced(sb):
    if os.geteuid() != 0:
        sttest.skip("needs root: the children drop root to nobody")
    res = run_py(sb, PY_DROP)
    got = re.findall(r"^got (\w+)$", res.out, re.M)
    check_eq(got, ["setuid", "seteuid", "setreuid", "setresuid"], "what the server received")
    trace = sb.trace()
    trace.check_clean()
    for pid, name in re.findall(r"^child (\d+) (\w+)$", res.out, re.M):
        files = trace.files_of(pid=int(pid))
        check(len(files) == 1, "the child that called %s has its trace file (found %s)"
              % (name, [f.name for f in trace.files]), trace=trace)
        f = files[0]
        check(f.calls(fn="connect", ret=0), "its connect is in it", f.records)
        sent = [e for e in f.calls() if e.get("fn") in ("send", "sendto", "write")]
        check_eq(sum(e.get("bytes", 0) for e in sent), len(name), "the bytes it sent", sent)


if __name__ == "__main__":
    sttest.main()
