"""The shim is invisible from inside: a traced program's stdout and stderr
are byte-identical with and without it, and no descriptor of the shim's
appears below 512 in /proc/self/fd while the program runs (the trace
descriptor is moved high)."""

import resource

import sttest
from sttest import check, check_eq, prog


def test_identical_output(sb):
    plain = sb.run([prog("quiet"), 512], traced=False)
    traced = sb.run([prog("quiet"), 512])
    if traced.raw_out != plain.raw_out:
        raise sttest.Fail("stdout differs with the shim\nwithout:\n%s\nwith:\n%s"
                          % (plain.out, traced.out))
    check_eq(traced.raw_err, plain.raw_err, "stderr with the shim")
    check_eq(plain.err, "quiet: a line on stderr\n", "stderr")
    lines = dict(line.split(":", 1) for line in plain.out.splitlines())
    check_eq(lines["after socketpair"].split(), ["0", "1", "2", "3", "4"],
             "descriptors after the first socket calls")

    trace = sb.trace()
    trace.check_clean()
    tf = trace.file(pid=traced.pid)
    check(tf.calls(fn="socketpair") and tf.calls(fn="dup"), "the calls were traced", trace=trace)


def test_low_limit(sb):
    """With RLIMIT_NOFILE at 64 there is no room far above the program's
    descriptors: the shim's may show in /proc/self/fd, but in the upper
    half of the range, and the program still gets exactly the same
    descriptor numbers as without the shim."""
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    plain = sb.run([prog("quiet"), 64], traced=False, preexec_fn=limit)
    traced = sb.run([prog("quiet"), 64], preexec_fn=limit)
    check_eq(traced.err, plain.err, "stderr with the shim (RLIMIT_NOFILE 64)")

    def low_only(out):
        lines = []
        for line in out.splitlines():
            key, _, fds = line.partition(":")
            if key in ("start", "after socketpair", "after close", "end"):
                fds = " " + " ".join(f for f in fds.split() if int(f) < 32)
            lines.append(key + ":" + fds)
        return lines

    check_eq(low_only(traced.out), low_only(plain.out),
             "stdout with the shim, descriptors below 32 (RLIMIT_NOFILE 64)")
    extra = set(traced.out.split()) - set(plain.out.split())
    check(len(extra) <= 1, "more than one extra descriptor with the shim: %s\n%s"
          % (sorted(extra), traced.out))


if __name__ == "__main__":
    sttest.main()
