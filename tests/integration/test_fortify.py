"""A program built with _FORTIFY_SOURCE calls __recv_chk, __recvfrom_chk
and __read_chk instead of recv, recvfrom and read: the shim hooks those
too, and records them under the name the program called."""

import sttest
from sttest import check, check_eq, prog

CHK = ("__recv_chk", "__recvfrom_chk", "__read_chk")


def test_binary_imports_chk(sb):
    imports = sttest.nm_imports(prog("fortify"))
    missing = [s for s in CHK if s not in imports]
    check(not missing,
          "progs/fortify was built fortified (-O2 -D_FORTIFY_SOURCE=2) but does not import "
          "%s; it imports %s. gcc/glibc use the _chk variants only when the buffer size is "
          "known and the length is not a constant: check the flags in "
          "tests/integration/meson.build and that the compiler honours them."
          % (missing, sorted(s for s in imports if "recv" in s or "read" in s)))


def test_chk_calls_traced(sb):
    res = sb.run([prog("fortify"), 5])
    check_eq(res.out, "recv 5\nrecvfrom 5\nread 5\n", "what the program received")
    trace = sb.trace()
    trace.check_clean()
    tf = trace.file(pid=res.pid)
    pair = tf.calls(fn="socketpair")[0]
    for fn in CHK:
        recs = tf.calls(fn=fn)
        check_eq(len(recs), 1, "records of " + fn, recs, trace=trace if not recs else None)
        check_eq(recs[0]["fd"], pair["fds"][1], "fd of " + fn, recs + [pair])
        check_eq(recs[0]["ret"], 5, "ret of " + fn, recs)
        check_eq(recs[0].get("bytes"), 5, "bytes of " + fn, recs)
        check_eq(recs[0].get("len"), 5, "len of " + fn, recs)
    for fn in ("recv", "recvfrom", "read"):
        check_eq(tf.calls(fn=fn), [], "records under the plain name " + fn, tf.calls(fn=fn))


if __name__ == "__main__":
    sttest.main()
