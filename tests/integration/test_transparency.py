"""The shim changes nothing a program can see: return values and errno of
failing calls (ECONNREFUSED, EAGAIN, EPIPE, EBADF, EINTR), errno after
successful calls, fd numbers, file I/O. progs/transparency.c prints its
observations; with and without the shim they must be identical. The
trace records the same errors, and nothing about the regular file."""

import sttest
from sttest import check, check_eq, prog

EXPECTED = {
    "connect_closed_port": "ret=-1 errno=ECONNREFUSED",
    "recv_nonblocking_empty": "ret=-1 errno=EAGAIN",
    "send_closed_peer": "ret=-1 errno=EPIPE",
    "close_minus_one": "ret=-1 errno=EBADF",
    "close_unopened": "ret=-1 errno=EBADF",
    "getaddrinfo_bad_numeric": "ret=EAI_NONAME errno=SENTINEL",
    "file_write": "ret=14 errno=SENTINEL",
    "file_read": "ret=14 errno=SENTINEL",
    "file_read_eof": "ret=0 errno=0",
    "recv_interrupted": "ret=-1 errno=EINTR",
}


def observations(out):
    obs = {}
    for line in out.splitlines():
        key, _, value = line.partition(": ")
        obs[key] = value
    return obs


def test_same_observations(sb):
    plain = sb.run([prog("transparency"), sb.dir], traced=False)
    traced = sb.run([prog("transparency"), sb.dir])
    if traced.raw_out != plain.raw_out:
        diff = [(a, b) for a, b in zip(plain.out.splitlines(), traced.out.splitlines())
                if a != b]
        raise sttest.Fail("output differs with the shim (without, with): %s\n"
                          "without:\n%s\nwith:\n%s" % (diff, plain.out, traced.out))
    check_eq(traced.raw_err, plain.raw_err, "stderr with the shim")

    obs = observations(plain.out)
    for key, want in EXPECTED.items():
        check_eq(obs.get(key), want, "observation " + key)
    oks = {k: v for k, v in obs.items() if k.startswith("ok_")}
    check_eq(len(oks), 21, "successful calls observed")
    for key, value in oks.items():
        check(value.endswith("errno=SENTINEL") and not value.startswith("ret=-1"),
              "%s: a successful call changed errno or failed: %s" % (key, value))

    trace = sb.trace()
    trace.check_clean()
    tf = trace.file(pid=traced.pid)
    connect = tf.calls(fn="connect", ret=-1)
    check(len(connect) == 1 and connect[0].get("errno") == "ECONNREFUSED",
          "the refused connect in the trace", tf.calls(fn="connect"))
    check(tf.calls(fn="recv", ret=-1, errno="EAGAIN"), "recv EAGAIN in the trace",
          tf.calls(fn="recv"))
    check(tf.calls(fn="send", ret=-1, errno="EPIPE"), "send EPIPE in the trace",
          tf.calls(fn="send"))
    check(tf.calls(fn="recv", ret=-1, errno="EINTR"), "recv EINTR in the trace",
          tf.calls(fn="recv"))
    gai = tf.calls(fn="getaddrinfo")
    check(len(gai) == 1 and gai[0]["ret"] != 0 and gai[0].get("errno") == "EAI_NONAME"
          and gai[0].get("host") == "300.1.2.3" and gai[0].get("flags") == "AI_NUMERICHOST",
          "the failed getaddrinfo in the trace, errno EAI_NONAME", gai, trace)
    check("addrs" not in gai[0], "no addrs for a failed getaddrinfo", gai)
    eintr = tf.calls(fn="recv", errno="EINTR")[0]
    check(eintr["dur"] >= 50 * 1000 * 1000, "the interrupted recv blocked ~100 ms", [eintr])

    # The regular file is not a socket: none of its calls is recorded.
    # Sockets did one read and one write (4 bytes each) and were closed
    # 12 times; close(-1) and close(987) are not sockets either.
    for fn in ("read", "write"):
        recs = tf.calls(fn=fn)
        check_eq(len(recs), 1, "%s records (only the socket's)" % fn, recs)
        check_eq(recs[0]["bytes"], 4, "%s bytes" % fn, recs)
    closes = tf.calls(fn="close")
    check_eq(len(closes), 12, "close records (sockets only)", closes)
    check(all(e["ret"] == 0 for e in closes), "every recorded close succeeded", closes)

    # The successful socket calls are recorded with ret >= 0 and no errno.
    for fn in ("socket", "setsockopt", "bind", "listen", "getsockname", "accept",
               "getsockopt", "getpeername", "shutdown", "dup"):
        recs = tf.calls(fn=fn, ret=lambda r: r >= 0)
        check(recs and all("errno" not in e for e in recs), "successful %s recorded" % fn,
              tf.calls(fn=fn))


if __name__ == "__main__":
    sttest.main()
