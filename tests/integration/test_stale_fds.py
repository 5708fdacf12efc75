"""Descriptors closed behind the shim's back (an inline system call: as
io_uring or a library making its own system calls would) must never make
the next owner of the number look like the old socket."""

import os

import sttest
from sttest import check, check_eq, prog


def test_inotify_on_a_closed_sockets_number(sb):
    plain = sb.run([prog("stale_fds"), "inotify"], traced=False)
    res = sb.run([prog("stale_fds"), "inotify"])
    check_eq(res.out, plain.out, "the program sees the same results")
    old = int(res.out.split("old=")[1].split()[0])
    check(" new=%d " % old in res.out, "inotify got the socket's number: %r" % res.out)
    tf = sb.trace().file(pid=res.pid)
    after = [e for e in tf.calls() if e.get("fd") == old and e["fn"] != "send"
             and e["fn"] not in ("socket", "connect")]
    check_eq(after, [], "no read, dup or close of the inotify descriptor traced as the socket",
             after)
    check_eq(len(tf.calls(fn="send")), 1, "the socket's own send is there")


def test_passed_socket_on_a_closed_sockets_number(sb):
    # The viewer cannot tell which socket a descriptor passed with
    # SCM_RIGHTS is (docs/guarantees.md, Known limits): the passed end of a
    # socketpair is not tied to its other end.
    sb.picture_limit = "a socket passed with SCM_RIGHTS"
    plain = sb.run([prog("stale_fds"), "passed"], traced=False)
    res = sb.run([prog("stale_fds"), "passed"])
    check_eq(res.out, plain.out, "the program sees the same results")
    old = int(res.out.split("old=")[1].split()[0])
    check(" new=%d " % old in res.out, "the passed socket got the number: %r" % res.out)
    tf = sb.trace().file(pid=res.pid)
    writes = tf.calls(fn="write", fd=old)
    check_eq(len(writes), 1, "the write on the passed socket is traced", writes)
    check(writes[0].get("peer", "").startswith("unix:"),
          "with the passed unix socket's endpoints, not 127.0.0.1:9's", writes)


def test_files_on_closed_sockets_numbers(sb):
    """sendfile and splice into files that took closed sockets' numbers:
    they succeed on files too, so only the kernel can tell; neither is
    traced as a socket's."""
    paths = [os.path.join(sb.dir, n) for n in ("f1", "f2")]

    def run(traced):
        for p in paths:
            with open(p, "wb") as f:
                f.write(b"12345")
        res = sb.run([prog("stale_fds"), "files"] + paths, traced=traced)
        with open(paths[0], "rb") as f1, open(paths[1], "rb") as f2:
            return res, (f1.read(), f2.read())

    plain, plain_files = run(False)
    res, files = run(True)
    check_eq(res.out, plain.out, "the program sees the same results")
    check(res.out.endswith(" sendfile=5 splice=3\n"), "both wrote into the files: %r" % res.out)
    check_eq(files, (b"1234512345", b"12345abc"), "what the files hold")
    check_eq(files, plain_files, "the files, with and without the shim")
    olds = res.out.split("old=")[1].split()[0]
    check(" new=%s " % olds in res.out, "the files got the sockets' numbers: %r" % res.out)
    tf = sb.trace().file(pid=res.pid)
    kcopies = tf.calls(fn=("sendfile", "sendfile64", "splice"))
    check_eq(kcopies, [], "no sendfile or splice into a file traced as a socket's", kcopies)


if __name__ == "__main__":
    sttest.main()
