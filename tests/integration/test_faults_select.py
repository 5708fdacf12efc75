"""Which calls a rule picks: when= counts, prob= with a seed (the same
seed replays the same faults), prog= in a scenario shared by a server and
its client, peer= networks and port= ranges."""

import os
import socket

import sttest
from sttest import check, check_eq, sample
from test_faults import (PY, check_fault, faulted, faults, listener, run_py, tool, unfaulted,
                         write_file)

# Connects to 127.0.0.1:PORT up to 3 times, until one succeeds.
RETRY_CONNECT = r"""
import errno, socket, sys
for attempt in range(3):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
        print("connected")
        break
    except OSError as e:
        print(errno.errorcode[e.errno])
    finally:
        s.close()
"""

# Connects to 127.0.0.1:PORT and sends N times COUNT bytes, one send each;
# prints what each send returned, or its errno.
SENDS = r"""
import errno, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
out = []
for i in range(int(sys.argv[2])):
    try:
        out.append(str(s.send(b"x" * int(sys.argv[3]))))
    except OSError as e:
        out.append(errno.errorcode[e.errno])
print(" ".join(out))
"""


def test_when_range_retry(sb):
    """when=1..2: a client that retries sees two refusals, then connects."""
    lsock, port = listener()
    with lsock:
        rule = "connect port=%d when=1..2 error=ECONNREFUSED" % port
        res = run_py(sb, RETRY_CONNECT, port, env=faults(rule))
    check_eq(res.out.split(), ["ECONNREFUSED", "ECONNREFUSED", "connected"],
             "what each attempt saw")
    connects = sb.trace().file(pid=res.pid).calls(fn="connect")
    check_eq(len(connects), 3, "connects", connects)
    for n, c in enumerate(connects[:2], 1):
        check_fault(c, "error", False, "SOCKTRACE_FAULTS:1", rule, nth=n)
        check_eq((c["ret"], c.get("errno")), (-1, "ECONNREFUSED"), "a refused connect", [c])
    check("fault" not in connects[2] and connects[2]["ret"] == 0, "the third connect is real",
          connects)


FORKED_CONNECTS = r"""
import errno, os, socket, sys
def attempt(who):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
        print(who, "connected", flush=True)
    except OSError as e:
        print(who, errno.errorcode[e.errno], flush=True)
    s.close()
attempt("parent")
attempt("parent")
pid = os.fork()
if pid == 0:
    attempt("child")
    attempt("child")
    os._exit(0)
os.waitpid(pid, 0)
attempt("parent")
"""


def test_when_counts_per_process(sb):
    """when= counts per process: a forked child starts from 1 again, and
    its calls do not move the parent's count."""
    lsock, port = listener()
    with lsock:
        rule = "connect port=%d when=1 error=ECONNREFUSED" % port
        res = run_py(sb, FORKED_CONNECTS, port, env=faults(rule))
    check_eq(res.out.splitlines(), ["parent ECONNREFUSED", "parent connected",
                                    "child ECONNREFUSED", "child connected", "parent connected"],
             "what each connect saw")
    trace = sb.trace()
    parent = trace.file(pid=res.pid)
    (child,) = [f for f in trace.files if f.ppid == res.pid]
    check_eq([c.get("fault", {}).get("nth") for c in parent.calls(fn="connect")],
             [1, None, None], "the parent's faulted connects")
    check_eq([c.get("fault", {}).get("nth") for c in child.calls(fn="connect")],
             [1, None], "the child's faulted connects")


def test_when_every_other_send(sb):
    """when=2+2 on sends: the 2nd, 4th, 6th and 8th sends are short."""
    lsock, port = listener()
    with lsock:
        rule = "send port=%d when=2+2 short=1" % port
        res = run_py(sb, SENDS, port, 8, 4, env=faults(rule))
    check_eq(res.out.split(), ["4", "1"] * 4, "what each send returned")
    sends = sb.trace().file(pid=res.pid).calls(fn=("send", "sendto"))
    check_eq(len(sends), 8, "sends", sends)
    check_eq([e["fault"]["nth"] for e in faulted(sends)], [2, 4, 6, 8], "nth of faulted sends",
             sends)
    for e in faulted(sends):
        check_fault(e, "short", True, text=rule)
        check_eq((e["bytes"], e["fault"].get("asked"), e["fault"].get("allowed")), (1, 4, 1),
                 "a short send", [e])
    check(all(e["bytes"] == 4 for e in unfaulted(sends)), "the other sends are whole", sends)


def prob_run(sb, port, rule, seed=None, use_tool=False):
    """Runs 300 one-byte sends under rule; returns (failed send numbers
    as the program saw them, fault nths from the trace, header)."""
    if use_tool:
        out = os.path.join(sb.dir, "tool-trace-%d" % seed)
        res = sb.run([tool(), "run", "-q", "-o", out, "--seed", str(seed), "-f", rule, "--",
                      PY, "-c", SENDS, str(port), "300", "1"], traced=False)
        tf = sttest.Trace(out).file(prog=lambda p: p.startswith("python"))
    else:
        res = run_py(sb, SENDS, port, 300, 1, env=faults(rule, seed=seed))
        tf = sb.trace().file(pid=res.pid)
    seen = [n for n, r in enumerate(res.out.split(), 1) if r == "ENOBUFS"]
    sends = tf.calls(fn=("send", "sendto"))
    check_eq(len(sends), 300, "sends", sends[:3])
    nths = [e["fault"]["nth"] for e in faulted(sends)]
    for e in faulted(sends):
        check_fault(e, "error", False, text=rule)
        check_eq(e.get("errno"), "ENOBUFS", "errno of a faulted send", [e])
    return seen, nths, tf.header


def test_prob_seed_replay(sb):
    """prob=0.3 with SOCKTRACE_SEED: the same seed faults the same sends,
    the header records the seed and the rules, another seed faults other
    sends, and a run's recorded seed replays it."""
    lsock, port = listener()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    with lsock:
        rule = "send port=%d prob=0.3 error=ENOBUFS" % port
        seen1, nths1, h1 = prob_run(sb, port, rule, seed=12345)
        seen2, nths2, h2 = prob_run(sb, port, rule, seed=12345, use_tool=True)
        seen3, nths3, _ = prob_run(sb, port, rule, seed=999)
        seen4, nths4, h4 = prob_run(sb, port, rule)
        seen5, nths5, _ = prob_run(sb, port, rule, seed=h4["seed"])
    check_eq(seen1, nths1, "the sends that failed vs the trace's nth")
    check(60 <= len(seen1) <= 120, "about 30%% of 300 sends fail: %d" % len(seen1))
    check_eq(h1.get("seed"), 12345, "the header's seed")
    check_eq(h1.get("rules"), [{"rule": "SOCKTRACE_FAULTS:1", "text": rule}], "the header's rules")
    check_eq((seen2, nths2), (seen1, nths1), "the same seed (socktrace run --seed) again")
    check_eq(h2.get("seed"), 12345, "the header's seed under socktrace run --seed")
    check(seen3 != seen1, "another seed gives other faults")
    check_eq(seen3, nths3, "the sends that failed vs the trace's nth (seed 999)")
    check(isinstance(h4.get("seed"), int) and 0 <= h4["seed"] < 2 ** 63,
          "a random seed is recorded: %r" % h4.get("seed"))
    check_eq((seen5, nths5), (seen4, nths4), "a replay with the recorded seed")


def test_prog_in_shared_scenario(sb):
    """One scenario for a server and its client: prog=tcp_serv* faults
    the server only (its port= is its local port); the client keeps no
    rule at all."""
    port = sttest.free_port()
    scn = write_file(sb, "both.scn", "# the server's data moves 2 bytes at a time\n"
                     "send,recv port=%d prog=tcp_serv* short=2\n" % port)
    env = faults(scenario=scn)
    server = sb.spawn([sample("tcp_server"), port], env=env)
    sb.wait_listening(server)
    client = sb.run([sample("tcp_client"), "127.0.0.1", port, "hello world"], env=env)
    sres = sb.finish(server)
    check_eq(client.out, "echo: hello world\n", "the client's output")
    check_eq(sres.out.splitlines()[-1], "request: hello world", "the server's output")

    trace = sb.trace()
    trace.check_clean()
    sfile = trace.file(pid=server.pid)
    cfile = trace.file(pid=client.pid)
    text = "send,recv port=%d prog=tcp_serv* short=2" % port
    check_eq(sfile.header.get("rules"), [{"rule": scn + ":2", "text": text}],
             "the server's rules", sfile.records[:1])
    check("rules" not in cfile.header and "seed" not in cfile.header,
          "the client keeps no rule", cfile.records[:1])
    check_eq(faulted(cfile.calls()), [], "faulted calls in the client")
    data = sfile.calls(fn=("send", "recv"), ret=lambda r: r > 0)
    check(len(data) >= 12, "the server's data calls", data)
    for e in data:
        check_fault(e, "short", True, scn + ":2", text)
        check(e["bytes"] <= 2, "at most 2 bytes per call", [e])
    check_eq(sum(e["bytes"] for e in data if e["fn"] == "send"), len("echo: hello world\n"),
             "bytes the server sent")


# Connects to each HOST:PORT argument, prints the outcome of each.
CONNECT_EACH = r"""
import errno, socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family)
    try:
        s.connect((host.strip("[]"), int(port)))
        print(target, "connected")
    except OSError as e:
        print(target, errno.errorcode[e.errno])
    s.close()
"""


def test_peer_networks_and_ports(sb):
    """peer= networks (with and without a port) and a port= range pick the
    right connections only; an IPv4 network also picks the same address
    seen as ::ffff:a.b.c.d by an IPv6 socket."""
    try:
        l3, p3 = listener("127.0.0.2")
    except OSError:
        sttest.skip("127.0.0.2 cannot be bound here")
    l1, p1 = listener()
    l2, p2 = listener()
    lo, hi = sorted((p1, p2))
    rules = ["connect peer=127.0.0.2/32 error=EHOSTUNREACH",
             "connect peer=127.0.0.0/8 port=%d-%d error=ECONNREFUSED" % (lo, hi - 1),
             "connect peer=127.0.0.1:%d delay=1ms" % hi]
    targets = ["127.0.0.1:%d" % lo, "127.0.0.1:%d" % hi, "127.0.0.2:%d" % p3]
    v6 = sttest.ipv6_loopback_usable()
    if v6:
        targets.append("[::ffff:127.0.0.2]:%d" % p3)
    with l1, l2, l3:
        res = run_py(sb, CONNECT_EACH, *targets, env=faults(*rules))
    seen = dict(line.rsplit(" ", 1) for line in res.out.splitlines())
    want = {targets[0]: "ECONNREFUSED", targets[1]: "connected", targets[2]: "EHOSTUNREACH"}
    if v6:
        want[targets[3]] = "EHOSTUNREACH"
    check_eq(seen, want, "what each connect saw")

    connects = sb.trace().file(pid=res.pid).calls(fn="connect")
    check_eq(len(connects), len(targets), "connects", connects)
    check_fault(connects[0], "error", False, "SOCKTRACE_FAULTS:2")
    check_fault(connects[1], "delay", True, "SOCKTRACE_FAULTS:3")
    check_eq(connects[1]["ret"], 0, "the delayed connect connects", connects[1:2])
    check_fault(connects[2], "error", False, "SOCKTRACE_FAULTS:1", nth=1)
    if v6:
        check_fault(connects[3], "error", False, "SOCKTRACE_FAULTS:1", nth=2)
        check_eq(connects[3].get("addr"), "[::ffff:127.0.0.2]:%d" % p3, "the mapped address",
                 connects[3:])


def test_local_on_bind(sb):
    """local= selects bind by the address it binds: one port refused with
    EADDRINUSE, port 0 bound for real."""
    taken = sttest.free_port()
    rule = "bind local=127.0.0.1:%d error=EADDRINUSE" % taken
    code = ("import errno, socket, sys\n"
            "for port in sys.argv[1:]:\n"
            "    s = socket.socket()\n"
            "    try:\n"
            "        s.bind(('127.0.0.1', int(port)))\n"
            "        print('bound')\n"
            "    except OSError as e:\n"
            "        print(errno.errorcode[e.errno])\n"
            "    s.close()\n")
    res = run_py(sb, code, taken, 0, env=faults(rule))
    check_eq(res.out.split(), ["EADDRINUSE", "bound"], "what each bind saw")
    binds = sb.trace().file(pid=res.pid).calls(fn="bind")
    check_eq(len(binds), 2, "binds", binds)
    check_fault(binds[0], "error", False, text=rule, nth=1)
    check("fault" not in binds[1] and binds[1]["ret"] == 0, "the other bind is real", binds)


def test_port_range_either_end(sb):
    """port= also picks a server's calls by its own (local) port, and a
    range's ends are inside it."""
    port = sttest.free_port()
    rule = "recv port=%d-%d delay=1ms" % (port - 1 if port > 1024 else port, port)
    server = sb.spawn([sample("tcp_server"), port], env=faults(rule))
    sb.wait_listening(server)
    client = sb.run([sample("tcp_client"), "127.0.0.1", port, "ping"], env=faults(rule))
    sb.finish(server)
    check_eq(client.out, "echo: ping\n", "the client's output")
    trace = sb.trace()
    for pid, who in ((server.pid, "server"), (client.pid, "client")):
        recvs = trace.file(pid=pid).calls(fn="recv")
        check(recvs, "the %s's receives" % who, trace=trace)
        for e in recvs:
            check_fault(e, "delay", True, text=rule)


def test_peer_of_unasked_accept_untraced(sb):
    """A server that accepts with no address buffer, tracing off: the shim
    asks the kernel for the peer only when a rule needs it, and the rule
    still sees it. stream_loop's server receives first, its client
    second; when=2 reaches the client's receive only if the server's
    counted as the first match."""
    if not sttest.ipv6_loopback_usable():
        sttest.skip("no IPv6 loopback here")
    env = faults("recv peer=::1 when=2 error=ECONNRESET")
    env["SOCKTRACE_OUT"] = "off"
    res = sb.run([sttest.prog("stream_loop"), "ipv6"], env=env, check_rc=False)
    check_eq(res.returncode, 1, "stream_loop's status: %r" % res.out)
    check("recv: Connection reset by peer" in res.err,
          "the client's receive failed: %r" % res.err)


if __name__ == "__main__":
    sttest.main()
