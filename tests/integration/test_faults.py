"""Fault injection, the basics: a refused connect as curl sees it, a rule
that never matches changes nothing, name resolution failures, rules read
from SOCKTRACE_FAULTS, SOCKTRACE_SCENARIO, `socktrace run -f/-s` and
checked by `socktrace check`, and bad rules that stop everything before
the program starts. Every test asserts on what the program saw and on
the "fault" object of the trace.

The helpers here are shared by test_faults_*.py."""

import glob
import os
import signal
import socket
import sys

import sttest
from sttest import check, check_eq

TOOL = os.environ.get("SOCKTRACE_TOOL", "")
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(SOURCE_ROOT, "samples", "scenarios")
PY = sys.executable
SEND_FNS = ("send", "sendto", "sendmsg", "write", "writev")
RECV_FNS = ("recv", "__recv_chk", "read", "__read_chk", "recvfrom", "recvmsg", "readv")


def tool():
    check(TOOL != "" and os.access(TOOL, os.X_OK),
          "SOCKTRACE_TOOL is not set or not executable: %r (run through meson test)" % TOOL)
    return TOOL


def need(name):
    if not sttest.have_program(name):
        sttest.skip("%s is not installed" % name)
    return name


def faults(*rules, seed=None, scenario=None):
    """The environment that gives a program these inline rules."""
    env = {}
    if rules:
        env["SOCKTRACE_FAULTS"] = ";".join(rules)
    if seed is not None:
        env["SOCKTRACE_SEED"] = str(seed)
    if scenario is not None:
        env["SOCKTRACE_SCENARIO"] = scenario
    return env


def faulted(events):
    return [e for e in events if "fault" in e]


def unfaulted(events):
    return [e for e in events if "fault" not in e]


def check_fault(e, action, made, rule=None, text=None, nth=None):
    """e carries a fault object with these fields."""
    f = e.get("fault")
    check(isinstance(f, dict), "a fault object on the %s event" % e.get("fn"), [e])
    check_eq(f.get("action"), action, "fault.action", [e])
    check_eq(f.get("made"), made, "fault.made", [e])
    if rule is not None:
        check_eq(f.get("rule"), rule, "fault.rule", [e])
    if text is not None:
        check_eq(f.get("text"), text, "fault.text", [e])
    if nth is not None:
        check_eq(f.get("nth"), nth, "fault.nth", [e])
    return f


def write_file(sb, name, data):
    path = os.path.join(sb.dir, name)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def start_http_server(sb, files, rules=(), traced=False):
    """python3 -m http.server on 127.0.0.1 serving files ({name: bytes})
    from a fresh directory. rules: fault rules for the server, each with
    '{port}' standing for its port (known before it starts). Returns
    (port, process)."""
    root = os.path.join(sb.dir, "www")
    os.makedirs(root, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    traced = traced or bool(rules)
    for _ in range(5):
        port = sttest.free_port()
        env = faults(*[r.format(port=port) for r in rules]) if rules else None
        server = sb.spawn([PY, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                           "--directory", root], traced=traced, env=env)
        try:
            sttest.wait_port(port, proc=server)
            return port, server
        except sttest.Fail:
            if server.poll() is None:
                raise
    raise sttest.Fail("could not start http.server")


def stop_http_server(sb, server):
    """Ends http.server the way a user would (^C), so its trace is whole."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
    return sb.finish(server, check_rc=False)


def curl_argv(url, *extra):
    return [need("curl"), "-s", "-S", "--max-time", "15", "--noproxy", "*"] + list(extra) + [url]


def listener(host="127.0.0.1", family=socket.AF_INET):
    """A listening socket of the test itself: connects to it complete in
    the backlog without an accept. Returns (socket, port)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(64)
    return s, s.getsockname()[1]


def run_py(sb, code, *args, env=None, **kw):
    """Runs a Python program (text) under the shim."""
    return sb.run([PY, "-c", code] + [str(a) for a in args], env=env, **kw)


# ---------------------------------------------------------------------------

def test_connect_refused_curl(sb):
    """curl exits 7 when its connect is refused by a rule, though the
    server is there; the connect event says ECONNREFUSED, not made."""
    port, _server = start_http_server(sb, {"page.txt": b"hello\n"})
    rule = "connect port=%d error=ECONNREFUSED" % port
    res = sb.run([tool(), "run", "-q", "-o", sb.out, "-f", rule, "--",
                  *curl_argv("http://127.0.0.1:%d/page.txt" % port, "-o", "/dev/null")],
                 traced=False, check_rc=False)
    check_eq(res.returncode, 7, "curl's status (couldn't connect)\n" + res.explain())
    check("connect" in res.err.lower(), "curl says it could not connect: %r" % res.err)

    trace = sb.trace()
    trace.check_clean()
    cfile = trace.file(prog="curl")
    check_eq(cfile.header.get("rules"), [{"rule": "SOCKTRACE_FAULTS:1", "text": rule}],
             "the rules in curl's header", cfile.records[:1])
    check(isinstance(cfile.header.get("seed"), int), "a seed in the header", cfile.records[:1])
    connects = cfile.calls(fn="connect", addr="127.0.0.1:%d" % port)
    check(connects, "curl's connect to the server", trace=trace)
    for c in connects:
        check_eq(c["ret"], -1, "connect's return", [c])
        check_eq(c.get("errno"), "ECONNREFUSED", "connect's errno", [c])
        check_fault(c, "error", False, "SOCKTRACE_FAULTS:1", rule)
    check_eq([c["fault"]["nth"] for c in connects], list(range(1, len(connects) + 1)),
             "nth of the faulted connects", connects)
    # The rule selected nothing else.
    others = [e for e in faulted(cfile.calls()) if e not in connects]
    check_eq(others, [], "other faulted calls", others)


def test_rule_that_never_matches(sb):
    """A rule no call matches: curl's output and status are the same as
    without the shim, and nothing in the trace is faulted."""
    body = bytes(range(256)) * 20
    port, _server = start_http_server(sb, {"data.bin": body})
    argv = curl_argv("http://127.0.0.1:%d/data.bin" % port, "-o", "-")
    plain = sb.run(argv, traced=False)
    rule = "connect port=1 error=ECONNREFUSED"
    traced = sb.run(argv, env=faults(rule))
    check_eq(plain.raw_out, body, "curl's output without the shim")
    check_eq(traced.returncode, plain.returncode, "curl's status under a rule that never matches")
    check(traced.raw_out == plain.raw_out, "curl's output under a rule that never matches")
    check_eq(traced.err, plain.err, "curl's stderr")

    trace = sb.trace()
    trace.check_clean()
    cfile = trace.file(pid=traced.pid)
    check_eq(cfile.header.get("rules"), [{"rule": "SOCKTRACE_FAULTS:1", "text": rule}],
             "rules in the header", cfile.records[:1])
    check_eq(faulted(cfile.calls()), [], "faulted calls")
    connect = cfile.calls(fn="connect", addr="127.0.0.1:%d" % port)
    check(connect, "curl connected", trace=trace)


def test_rules_order_files_then_inline(sb):
    """Scenario files come first, in order, then SOCKTRACE_FAULTS; the
    first rule that matches a call acts. The header lists them all."""
    lsock, port = listener()
    with lsock:
        a = write_file(sb, "a.scn", "# first file\n\nconnect port=%d error=ECONNREFUSED when=1\n"
                       % port)
        b = write_file(sb, "b.scn", "connect port=%d error=ENETUNREACH when=1..2\n" % port)
        code = ("import socket, sys\n"
                "for i in range(3):\n"
                "    s = socket.socket()\n"
                "    try:\n"
                "        s.connect(('127.0.0.1', int(sys.argv[1])))\n"
                "        print('connected')\n"
                "    except OSError as e:\n"
                "        print(__import__('errno').errorcode[e.errno])\n"
                "    s.close()\n")
        res = run_py(sb, code, port, env=faults("connect port=%d error=EHOSTUNREACH" % port,
                                                scenario="%s:%s" % (a, b)))
    # 1st: a.scn acts (b.scn counts it too); 2nd: b.scn; 3rd: the inline rule.
    check_eq(res.out.split(), ["ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH"],
             "what each connect saw")
    tf = sb.trace().file(pid=res.pid)
    check_eq([r["rule"] for r in tf.header.get("rules", [])],
             [a + ":3", b + ":1", "SOCKTRACE_FAULTS:1"], "rules in the header", tf.records[:1])
    connects = tf.calls(fn="connect")
    check_eq(len(connects), 3, "connects", connects)
    check_fault(connects[0], "error", False, a + ":3", nth=1)
    check_fault(connects[1], "error", False, b + ":1", nth=2)
    check_fault(connects[2], "error", False, "SOCKTRACE_FAULTS:1", nth=3)
    check_eq([c.get("errno") for c in connects], ["ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH"],
             "errnos in the trace", connects)


def test_getaddrinfo_fault(sb):
    """getaddrinfo host=example.invalid error=EAI_AGAIN: curl cannot
    resolve the name (status 6), Python's getaddrinfo raises EAI_AGAIN for
    it, and a lookup of another name is untouched."""
    rule = "getaddrinfo host=example.invalid error=EAI_AGAIN"
    res = sb.run(curl_argv("http://example.invalid/", "-o", "/dev/null"), env=faults(rule),
                 check_rc=False)
    check_eq(res.returncode, 6, "curl's status\n" + res.explain())
    check("Could not resolve host" in res.err, "curl's message: %r" % res.err)

    code = ("import socket\n"
            "for name in ('EXAMPLE.invalid', 'localhost', 'example.invalid'):\n"
            "    try:\n"
            "        socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)\n"
            "        print(name, 'ok')\n"
            "    except socket.gaierror as e:\n"
            "        print(name, 'EAI_AGAIN' if e.errno == socket.EAI_AGAIN else e.errno)\n")
    py = run_py(sb, code, env=faults(rule))
    check_eq(py.out.splitlines(), ["EXAMPLE.invalid EAI_AGAIN", "localhost ok",
                                   "example.invalid EAI_AGAIN"], "Python's lookups")

    trace = sb.trace()
    cg = trace.file(pid=res.pid).calls(fn="getaddrinfo", host="example.invalid")
    check(cg, "curl's lookup of example.invalid", trace=trace)
    for e in cg:
        check_eq(e.get("errno"), "EAI_AGAIN", "the lookup's error", [e])
        check_fault(e, "error", False, "SOCKTRACE_FAULTS:1", rule)
    pg = trace.file(pid=py.pid).calls(fn="getaddrinfo")
    check_eq([e["host"] for e in pg], ["EXAMPLE.invalid", "localhost", "example.invalid"],
             "Python's lookups in the trace", pg)
    check_fault(pg[0], "error", False, nth=1)
    check_fault(pg[2], "error", False, nth=2)
    check("fault" not in pg[1] and pg[1]["ret"] == 0 and pg[1].get("addrs"),
          "the lookup of localhost is untouched", [pg[1]])

    if sttest.have_program("getent"):
        ge = sb.run(["getent", "ahosts", "example.invalid"], env=faults(rule), check_rc=False)
        check_eq(ge.returncode, 2, "getent's status (not found)\n" + ge.explain())
        ok = sb.run(["getent", "ahosts", "localhost"], env=faults(rule))
        check("127.0.0.1" in ok.out or "::1" in ok.out, "getent ahosts localhost: %r" % ok.out)


def test_getaddrinfo_noname_glob(sb):
    """A host glob, case-insensitive, and EAI_NONAME."""
    rule = "dns host=*.INVALID error=EAI_NONAME"
    code = ("import socket\n"
            "for name in ('db.example.invalid', 'localhost'):\n"
            "    try:\n"
            "        socket.getaddrinfo(name, 80)\n"
            "        print('ok')\n"
            "    except socket.gaierror as e:\n"
            "        print('EAI_NONAME' if e.errno == socket.EAI_NONAME else e.errno)\n")
    res = run_py(sb, code, env=faults(rule))
    check_eq(res.out.split(), ["EAI_NONAME", "ok"], "what the lookups returned")
    gai = sb.trace().file(pid=res.pid).calls(fn="getaddrinfo")
    check_eq(len(gai), 2, "lookups", gai)
    check_eq(gai[0].get("errno"), "EAI_NONAME", "the faulted lookup's error", gai)
    check_fault(gai[0], "error", False, text="dns host=*.INVALID error=EAI_NONAME")
    check("fault" not in gai[1], "localhost untouched", gai)


def test_host_selects_connects(sb):
    """host= on connect: connects to the addresses a lookup of that name
    returned are refused; the same server by its number is not."""
    server = sb.spawn([sttest.sample("tcp_server"), "0", "1"])
    port = sb.wait_listening(server)
    rule = "connect host=localhost error=ECONNREFUSED"
    by_name = sb.run([sttest.sample("tcp_client"), "localhost", port, "one"], env=faults(rule),
                     check_rc=False)
    by_number = sb.run([sttest.sample("tcp_client"), "127.0.0.1", port, "two"], env=faults(rule))
    sb.finish(server)
    check_eq(by_name.returncode, 1, "the client that looked up localhost\n" + by_name.explain())
    check("Connection refused" in by_name.err, "its message: %r" % by_name.err)
    check_eq(by_number.out, "echo: two\n", "the client that used the number")

    trace = sb.trace()
    named = trace.file(pid=by_name.pid).calls(fn="connect")
    check(named, "connects of the first client", trace=trace)
    for c in named:
        check_eq(c.get("errno"), "ECONNREFUSED", "connect's errno", [c])
        check_fault(c, "error", False, text=rule)
    numbered = trace.file(pid=by_number.pid).calls(fn="connect")
    check(len(numbered) == 1 and numbered[0]["ret"] == 0 and "fault" not in numbered[0],
          "the second client's connect is untouched", numbered)


def test_close_error_releases(sb):
    """close error=EIO: the program sees EIO and the descriptor is gone
    all the same, as after any failed close on Linux."""
    code = ("import errno, os, socket\n"
            "s = socket.socket()\n"
            "fd = s.fileno()\n"
            "try:\n"
            "    s.close()\n"
            "    print('closed')\n"
            "except OSError as e:\n"
            "    print(errno.errorcode[e.errno])\n"
            "try:\n"
            "    os.fstat(fd)\n"
            "    print('still open')\n"
            "except OSError as e:\n"
            "    print(errno.errorcode[e.errno])\n")
    res = run_py(sb, code, env=faults("close error=EIO"))
    check_eq(res.out.split(), ["EIO", "EBADF"], "close's error, then the descriptor")
    (close,) = sb.trace().file(pid=res.pid).calls(fn="close")
    check_fault(close, "error", True, text="close error=EIO", nth=1)
    check_eq((close["ret"], close.get("errno")), (-1, "EIO"), "close's result", [close])


def test_run_scenario_and_rule(sb):
    """socktrace run -s FILE -f RULE: the file's rules first, then -f; the
    trace names each rule by FILE:LINE or SOCKTRACE_FAULTS:N."""
    lsock, port = listener()
    with lsock:
        scn = write_file(sb, "db.scn", "# refused twice\nconnect port=%d error=ECONNREFUSED "
                         "when=1..2\n" % port)
        rule = "connect port=%d error=ETIMEDOUT when=3" % port
        code = ("import errno, socket, sys\n"
                "for i in range(4):\n"
                "    s = socket.socket()\n"
                "    try:\n"
                "        s.connect(('127.0.0.1', int(sys.argv[1])))\n"
                "        print('connected')\n"
                "    except OSError as e:\n"
                "        print(errno.errorcode[e.errno])\n"
                "    s.close()\n")
        res = sb.run([tool(), "run", "-q", "-o", sb.out, "-s", scn, "-f", rule, "--",
                      PY, "-c", code, str(port)], traced=False)
    check_eq(res.out.split(), ["ECONNREFUSED", "ECONNREFUSED", "ETIMEDOUT", "connected"],
             "what each connect saw")
    tf = sb.trace().file(prog=lambda p: p.startswith("python"))
    check_eq(tf.header.get("rules"),
             [{"rule": scn + ":2", "text": "connect port=%d when=1..2 error=ECONNREFUSED" % port},
              {"rule": "SOCKTRACE_FAULTS:1", "text": "connect port=%d when=3 error=ETIMEDOUT"
               % port}], "the rules in the header")
    connects = tf.calls(fn="connect")
    check_eq([c.get("fault", {}).get("rule") for c in connects],
             [scn + ":2", scn + ":2", "SOCKTRACE_FAULTS:1", None], "which rule acted", connects)


def test_sample_flaky_db(sb):
    """samples/scenarios/flaky-db.scn against a client of port 5432 that
    retries: three refusals, then a connection."""
    lsock = socket.socket()
    try:
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", 5432))
        lsock.listen(8)
    except OSError:
        lsock.close()
        sttest.skip("port 5432 is taken here")
    scn = os.path.join(SCENARIOS, "flaky-db.scn")
    code = ("import errno, socket\n"
            "for i in range(5):\n"
            "    s = socket.socket()\n"
            "    try:\n"
            "        s.connect(('127.0.0.1', 5432))\n"
            "        print('connected')\n"
            "        break\n"
            "    except OSError as e:\n"
            "        print(errno.errorcode[e.errno])\n"
            "    s.close()\n")
    with lsock:
        res = sb.run([tool(), "run", "-q", "-o", sb.out, "-s", scn, "--", PY, "-c", code],
                     traced=False)
    check_eq(res.out.split(), ["ECONNREFUSED"] * 3 + ["connected"], "what each connect saw")
    connects = sb.trace().file(prog=lambda p: p.startswith("python")).calls(fn="connect")
    check_eq([c.get("fault", {}).get("nth") for c in connects], [1, 2, 3, None],
             "the scenario's first rule acted on the first three", connects)


# ---------------------------------------------------------------------------
# Bad rules: reported with FILE:LINE:COL and a suggestion; nothing runs.

def test_run_bad_rule(sb):
    marker = os.path.join(sb.dir, "ran")
    out = os.path.join(sb.dir, "never")
    res = sb.run([tool(), "run", "-o", out, "-f", "conect error=X", "--", "touch", marker],
                 traced=False, check_rc=False)
    check_eq(res.returncode, 2, "socktrace run's status\n" + res.explain())
    check_eq(res.err, "SOCKTRACE_FAULTS:1:1: unknown call 'conect'; did you mean 'connect'?\n"
             "socktrace run: fix the rules above; nothing was run\n", "socktrace run's message")
    check_eq(res.out, "", "socktrace run's stdout")
    check(not os.path.exists(marker), "the command did not run")
    check(not os.path.exists(out), "no trace directory was made")

    # -f rules are numbered in the order given, after SOCKTRACE_FAULTS.
    res = sb.run([tool(), "run", "-o", out, "-f", "connect error=ECONNREFUSED",
                  "-f", "recv error=ECONNRESET prob=2", "--", "touch", marker],
                 traced=False, check_rc=False, env={"SOCKTRACE_FAULTS": "recv reset"})
    check_eq(res.returncode, 2, "status with a bad second -f\n" + res.explain())
    check_eq(res.err, "SOCKTRACE_FAULTS:3:28: prob=2: give a probability from 0.000000000001 to 1, "
             "e.g. prob=0.25\nsocktrace run: fix the rules above; nothing was run\n",
             "message for the third rule")
    check(not os.path.exists(marker), "the command did not run")

    # -s: the file's name, line and column.
    bad = write_file(sb, "bad.scn", "# comment\nconnect error=ECONNREFUSED\n\n"
                     "  recv  error=ECONNRESET  delya=1s\n")
    res = sb.run([tool(), "run", "-o", out, "-s", bad, "--", "touch", marker],
                 traced=False, check_rc=False)
    check_eq(res.returncode, 2, "status with a bad scenario\n" + res.explain())
    check_eq(res.err, "%s:4:27: unknown key 'delya'; did you mean 'delay'?\n"
             "socktrace run: fix the rules above; nothing was run\n" % bad,
             "message for the scenario")
    check(not os.path.exists(marker) and not os.path.exists(out), "nothing ran, no trace")

    res = sb.run([tool(), "run", "-o", out, "-s", os.path.join(sb.dir, "missing.scn"), "--",
                  "touch", marker], traced=False, check_rc=False)
    check_eq(res.returncode, 2, "status with a missing scenario\n" + res.explain())
    check("missing.scn" in res.err and not os.path.exists(marker),
          "a missing scenario is named and nothing runs: %r" % res.err)


def test_shim_bad_rule(sb):
    """Given a bad rule through the environment, the shim says where and
    the program never starts: status 125."""
    marker = os.path.join(sb.dir, "ran")
    res = sb.run(["touch", marker], env=faults("connect error=EBOGUS"), check_rc=False)
    check_eq(res.returncode, 125, "status of a program with a bad rule\n" + res.explain())
    check("SOCKTRACE_FAULTS:1:15: unknown errno 'EBOGUS'; write a name such as ECONNREFUSED "
          "or a number" in res.err, "the message names the rule: %r" % res.err)
    check("touch does not start" in res.err, "the message says the program does not start: %r"
          % res.err)
    check(not os.path.exists(marker), "the program did not run")
    traced = [f.name for f in sttest.Trace(sb.out).files if f.calls()]
    check_eq(traced, [], "trace files with calls")

    bad = write_file(sb, "bad.scn", "recv reset\nsend close\n")
    res = sb.run(["touch", marker], env=faults(scenario=bad), check_rc=False)
    check_eq(res.returncode, 125, "status with a bad scenario file\n" + res.explain())
    check("%s:2:1: close makes a receive return 0 (end of stream): use it with receive calls "
          "only (recv, read, ...)" % bad in res.err, "the message: %r" % res.err)
    check(not os.path.exists(marker), "the program did not run")

    res = sb.run(["touch", marker], env=faults(scenario=os.path.join(sb.dir, "nope.scn")),
                 check_rc=False)
    check_eq(res.returncode, 125, "status with a missing scenario file\n" + res.explain())
    check("nope.scn" in res.err, "the missing file is named: %r" % res.err)
    check(not os.path.exists(marker), "the program did not run")

    # ';' separates inline rules: the second is named SOCKTRACE_FAULTS:2.
    res = sb.run(["touch", marker], env=faults("recv reset", "connect delay=5x"), check_rc=False)
    check_eq(res.returncode, 125, "status with a bad second rule\n" + res.explain())
    check("SOCKTRACE_FAULTS:2:15: delay=5x is not a duration; write e.g. 1.5 (seconds), 200ms, 30us, 2m"
          in res.err, "the message: %r" % res.err)


def scenario_files():
    files = sorted(glob.glob(os.path.join(SCENARIOS, "*.scn")))
    check(len(files) >= 4, "sample scenarios in %s: %s" % (SCENARIOS, files))
    return files


def test_check_sample_scenarios(sb):
    """Every sample scenario is valid; check prints each rule, normalised,
    after its FILE:LINE; the shim accepts them too."""
    files = scenario_files()
    res = sb.run([tool(), "check"] + files, traced=False, check_rc=False)
    check_eq(res.returncode, 0, "socktrace check on the samples\n" + res.explain())
    check_eq(res.err, "", "check's stderr")
    lines = res.out.splitlines()
    expected = []
    for path in files:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if line.split("#", 1)[0].strip():
                    expected.append("%s:%d" % (path, n))
    check_eq([l.split(": ", 1)[0] for l in lines], expected, "FILE:LINE of each rule printed")
    for line in lines:
        origin, _, text = line.partition(": ")
        check(text and "#" not in text, "a normalised rule: %r" % line)
    # The normalised form is itself a valid scenario, and normalises to itself.
    again = write_file(sb, "again.scn", "".join(l.partition(": ")[2] + "\n" for l in lines))
    res2 = sb.run([tool(), "check", again], traced=False)
    check_eq([l.partition(": ")[2] for l in res2.out.splitlines()],
             [l.partition(": ")[2] for l in lines], "normalised rules checked again")
    # The shim loads them all: a program runs under them, with every rule
    # whose prog= does not exclude it in force.
    ok = run_py(sb, "import socket; socket.socket().close()", env=faults(scenario=":".join(files)))
    header = sb.trace().file(pid=ok.pid).header
    check_eq([r["rule"] + ": " + r["text"] for r in header.get("rules", [])],
             [l for l in lines if "prog=" not in l and ": expect " not in l],
             "rules in force in a Python program")
    # The README names every file.
    with open(os.path.join(SCENARIOS, "README.md")) as f:
        readme = f.read()
    for path in files:
        check(os.path.basename(path) in readme, "README.md mentions " + os.path.basename(path))


def test_check_bad_file(sb):
    good = write_file(sb, "good.scn", "# ok\nconnect  port=5432 error=ECONNREFUSED when=1..3\n"
                      "recv port=5432 reset when=5\n")
    bad = write_file(sb, "bad.scn", "connect port=5432 error=ECONREFUSED\n"
                     "recv reset\n"
                     "\tlisten error=ECONNREFUSED\n")
    res = sb.run([tool(), "check", good], traced=False)
    check_eq(res.out, "%s:2: connect port=5432 when=1..3 error=ECONNREFUSED\n"
             "%s:3: recv port=5432 when=5 reset\n" % (good, good), "check's output")
    res = sb.run([tool(), "check", "-q", good], traced=False)
    check_eq(res.out + res.err, "", "check -q prints nothing for a good file")

    res = sb.run([tool(), "check", good, bad], traced=False, check_rc=False)
    check_eq(res.returncode, 1, "check's status with a bad file\n" + res.explain())
    check_eq(res.err, "%s:1:25: unknown errno 'ECONREFUSED'; did you mean 'ECONNREFUSED'?\n"
             "%s:3:15: listen never fails with ECONNREFUSED; it can fail with EADDRINUSE, "
             "EBADF, ENOTSOCK, EOPNOTSUPP\n" % (bad, bad), "check's messages")
    check(("%s:2: connect" % good) in res.out, "the good file is still listed: %r" % res.out)
    check(bad not in res.out, "nothing listed for the bad file: %r" % res.out)

    res = sb.run([tool(), "check", os.path.join(sb.dir, "missing.scn")], traced=False,
                 check_rc=False)
    check_eq(res.returncode, 1, "check's status for a missing file")
    check("missing.scn" in res.err, "the missing file is named: %r" % res.err)


if __name__ == "__main__":
    sttest.main()
