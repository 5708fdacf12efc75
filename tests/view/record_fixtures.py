#!/usr/bin/env python3
"""Records the traces the golden tests render, from the sample programs.

Usage: tests/view/record_fixtures.py BUILD_DIR [NAME...]

(NAME: only these scenarios; the real programs need curl and python3.)

Runs the samples under `socktrace run` (BUILD_DIR/viewer/socktrace, with
its shim) and writes, for each scenario below, a normalised copy of the
trace into tests/view/fixtures/NAME/: process ids become 1001, 1002, ...
(in the order the processes started), thread ids likewise, times are made
relative (the first process starts at 1 s), ports become 7000 (servers)
and 40001, 40002, ... (clients), paths and host names are fixed. What
remains is exactly what the shim recorded, so the fixtures change only
when the shim's output does. Then regenerate the goldens:

    SOCKTRACE_TOOL=BUILD_DIR/viewer/socktrace tests/view/test_golden.py --regen

and review the diff before committing it.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
BASE_NS = 1_000_000_000
REAL_OFFSET = 1_700_000_000_000_000_000


def start_server(tool, out, prog, count, extra=()):
    log = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen([tool, "run", "-q", "-o", out, "-p", "64", *extra, "--", prog, "0",
                          str(count)], stdout=log, stderr=subprocess.DEVNULL)
    for _ in range(100):
        log.seek(0)
        m = re.search(r"^listening on (\d+)$", log.read(), re.M)
        if m:
            return p, int(m.group(1))
        time.sleep(0.05)
    p.kill()
    sys.exit("record_fixtures: %s did not start" % prog)


def client(tool, out, prog, port, message, extra=()):
    subprocess.run([tool, "run", "-q", "-o", out, "-p", "64", *extra, "--", prog, "127.0.0.1",
                    str(port), message], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=20)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scenario_tcp(tool, build, out):
    srv, port = start_server(tool, out, build + "/samples/tcp_server", 1)
    client(tool, out, build + "/samples/tcp_client", port, "hello from the fixture")
    srv.wait(timeout=20)


def scenario_tcp3(tool, build, out):
    srv, port = start_server(tool, out, build + "/samples/tcp_server", 2)
    client(tool, out, build + "/samples/tcp_client", port, "first")
    client(tool, out, build + "/samples/tcp_client", port, "second")
    srv.wait(timeout=20)


def scenario_udp(tool, build, out):
    srv, port = start_server(tool, out, build + "/samples/udp_server", 1)
    client(tool, out, build + "/samples/udp_client", port, "ping")
    srv.wait(timeout=20)


def scenario_refused(tool, build, out):
    client(tool, out, build + "/samples/tcp_client", free_port(), "anyone there?")


def scenario_faults(tool, build, out):
    srv, port = start_server(tool, out, build + "/samples/tcp_server", 1)
    # Refused by socktrace itself, with the program's stack recorded.
    client(tool, out, build + "/samples/tcp_client", port, "refused",
           ["-f", "connect error=ECONNREFUSED", "--backtrace=errors:4"])
    client(tool, out, build + "/samples/tcp_client", port, "served")
    srv.wait(timeout=20)


# Real programs: the traces that misled the viewer (arrows back in time,
# connects in progress drawn as failures, connections mixed up).
PROGS = os.path.join(HERE, "progs")
PY = sys.executable


def start(tool, out, argv, extra=(), payload="64"):
    """Starts argv under socktrace run; waits for "listening on X"."""
    log = tempfile.TemporaryFile(mode="w+")
    p = subprocess.Popen([tool, "run", "-q", "-o", out, "-p", payload, *extra, "--", *argv],
                         stdout=log, stderr=subprocess.DEVNULL)
    for _ in range(200):
        log.seek(0)
        m = re.search(r"^listening on (\S+)$", log.read(), re.M)
        if m:
            return p, m.group(1)
        time.sleep(0.05)
    p.kill()
    sys.exit("record_fixtures: %s did not start" % argv)


def traced(tool, out, argv, extra=(), payload="64"):
    subprocess.run([tool, "run", "-q", "-o", out, "-p", payload, *extra, "--", *argv],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=True)


def scenario_curls(tool, build, out):
    """Six curls at once against Python's http.server (HTTP/1.0: the
    server closes), curl's connects non-blocking."""
    www = tempfile.mkdtemp(prefix="socktrace-www-")
    open(os.path.join(www, "index.html"), "w").write("hello\n")
    port = free_port()
    srv = subprocess.Popen([tool, "run", "-q", "-o", out, "-p", "64", "--", PY, "-m",
                            "http.server", "-d", www, "--bind", "127.0.0.1", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.05)
    # The probe above is not traced; it is one more connection for the
    # server, which the fixture shows as a client not traced.
    curls = [subprocess.Popen([tool, "run", "-q", "-o", out, "-p", "64", "--", "curl", "-s",
                               "-o", "/dev/null", "http://127.0.0.1:%d/index.html" % port])
             for _ in range(6)]
    for c in curls:
        c.wait(timeout=30)
    srv.terminate()
    srv.wait(timeout=20)
    shutil.rmtree(www)


def echo_scenario(kind, clients, extra_client=(), extra_server=(), rules=()):
    def scenario(tool, build, out):
        where = "0" if kind != "unixfork" else os.path.join(out, "echo.sock")
        srv, name = start(tool, out, [PY, os.path.join(PROGS, "echo_server.py"), kind, where,
                                      str(clients), *extra_server])
        addr = name if kind == "unixfork" else "127.0.0.1:" + name
        traced(tool, out, [PY, os.path.join(PROGS, "echo_client.py"), addr, str(clients),
                           "hello", *extra_client], extra=rules)
        srv.wait(timeout=30)
    return scenario


def scenario_ahead(tool, build, out):
    srv, port = start(tool, out, [PY, os.path.join(PROGS, "bulk.py"), "server", "0"],
                      payload="0")
    traced(tool, out, [PY, os.path.join(PROGS, "bulk.py"), "client", port, "300", "4096"],
           payload="0")
    srv.wait(timeout=30)


SCENARIOS = {
    "tcp": scenario_tcp,
    "tcp3": scenario_tcp3,
    "udp": scenario_udp,
    "refused": scenario_refused,
    "faults": scenario_faults,
    "curls": scenario_curls,
    "forking": echo_scenario("fork", 3),
    "threaded": echo_scenario("thread", 3),
    "unixfork": echo_scenario("unixfork", 3),
    "peek": echo_scenario("fork", 1, extra_server=["peek"]),
    # A client with a timeout (a non-blocking connect) refused twice by
    # socktrace, then served.
    "retry": echo_scenario("fork", 1, extra_client=["retry"],
                           rules=["-f", "connect when=1..2 error=ECONNREFUSED"]),
    "ahead": scenario_ahead,
}


class Normaliser:
    def __init__(self, files):
        headers = [(json.loads(open(f).readline()), f) for f in files]
        headers.sort(key=lambda h: (h[0].get("start", 0), h[0]["pid"], h[1]))
        self.pids = {}
        for h, _ in headers:
            self.pid(h["pid"])
        self.base = min(h.get("start", h["clock"]["mono"]) for h, _ in headers)
        self.ports = {}
        self.listening = set()
        for f in files:
            for line in open(f):
                r = json.loads(line)
                if r.get("fn") in ("bind", "listen") and r.get("local"):
                    self.listening.add(self.port_of(r["local"]))
                if r.get("fn") == "connect" and r.get("addr"):
                    self.listening.add(self.port_of(r["addr"]))

    def pid(self, p):
        if p not in self.pids:
            self.pids[p] = 1001 + len(self.pids)
        return self.pids[p]

    @staticmethod
    def port_of(addr):
        m = re.match(r"^(\d+\.\d+\.\d+\.\d+|\[[^\]]*\]):(\d+)$", addr)
        return int(m.group(2)) if m else None

    def port(self, p):
        if p == 0:
            return 0
        if p not in self.ports:
            if p in self.listening:
                self.ports[p] = 7000 + sum(1 for v in self.ports.values() if v < 40000)
            else:
                self.ports[p] = 40001 + sum(1 for v in self.ports.values() if v >= 40000)
        return self.ports[p]

    def addr(self, a):
        m = re.match(r"^(\d+\.\d+\.\d+\.\d+|\[[^\]]*\]):(\d+)$", a)
        return "%s:%d" % (m.group(1), self.port(int(m.group(2)))) if m else a

    @staticmethod
    def path(a):
        a = re.sub(r"^.*/samples/", "/build/samples/", a)
        a = re.sub(r"^.*/tests/view/progs/", "/src/tests/view/progs/", a)
        a = re.sub(r"^.*/bin/python3[.0-9]*$", "/usr/bin/python3", a)
        a = re.sub(r"^(unix:)?/tmp/socktrace-(fixture|www)-[^/]*", r"\1/tmp/fixture", a)
        a = re.sub(r"127\.0\.0\.1:(\d+)", lambda m: "127.0.0.1:%d" % 7000, a)
        return a

    def time(self, t):
        return t - self.base + BASE_NS

    def record(self, r):
        out = {}
        for k, v in r.items():
            if k in ("pid", "ppid", "tid", "peer_pid"):
                v = self.pid(v) if v in self.pids or k not in ("ppid", "peer_pid") else 1000
            elif k in ("ts", "start", "forked"):
                v = self.time(v)
            elif k == "clock":
                mono = self.time(v["mono"])
                v = {"mono": mono, "real": mono + REAL_OFFSET}
            elif k in ("local", "peer", "addr"):
                v = self.path(self.addr(v)) if v.startswith("unix:") else self.addr(v)
            elif k == "addrs":
                v = [self.addr(a) for a in v]
            elif k == "service" and str(v).isdigit():
                v = str(self.port(int(v)))
            elif k == "argv":
                v = [str(self.port(int(a))) if a.isdigit() and int(a) in self.ports
                     else self.path(a) for a in v]
            elif k == "exe":
                v = re.sub(r"^.*/samples/", "/build/samples/", v)
                v = re.sub(r"^.*/bin/python3[.0-9]*$", "/usr/bin/python3", v)
            elif k == "host" and r.get("rec") == "header":
                v = "fixture"
            elif k == "uid":
                v = 1000
            elif k == "seed":
                v = 1
            elif k == "stack":
                v = [{"ip": "0x%x" % (0x1000 + 16 * i), "module": re.sub(
                    r"^.*/samples/", "/build/samples/", f.get("module", "?")),
                    "offset": f.get("offset", "?"), "func": f.get("func", "?")}
                    if isinstance(f, dict) else f for i, f in enumerate(v)]
            out[k] = v
        return out


def normalise(src, dst):
    files = sorted(os.path.join(src, f) for f in os.listdir(src) if f.endswith(".jsonl"))
    n = Normaliser(files)
    # Ports in record order, so the numbering follows the trace.
    for f in files:
        for line in open(f):
            for k in ("local", "peer", "addr"):
                v = json.loads(line).get(k)
                p = n.port_of(v) if isinstance(v, str) else None
                if p:
                    n.port(p)
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    for f in files:
        lines = [json.loads(line) for line in open(f)]
        prog = lines[0]["prog"]
        name = "%s.%d.jsonl" % (prog, n.pid(lines[0]["pid"]))
        with open(os.path.join(dst, name), "w") as out:
            for r in lines:
                out.write(json.dumps(n.record(r), separators=(",", ":")) + "\n")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    tool = os.path.join(build, "viewer", "socktrace")
    only = sys.argv[2:]
    for name, fn in SCENARIOS.items():
        if only and name not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="socktrace-fixture-")
        try:
            fn(tool, build, tmp)
            normalise(tmp, os.path.join(FIXTURES, name))
            print("recorded", name)
        finally:
            shutil.rmtree(tmp)
    if not only or "killed" in only:
        make_killed()


def make_killed():
    """The tcp fixture as a killed client would leave it: NUL padding and
    a record cut short at the end of its file (made by hand from tcp, as a
    real kill cannot be timed to the byte)."""
    src, dst = os.path.join(FIXTURES, "tcp"), os.path.join(FIXTURES, "killed")
    if os.path.isdir(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    for f in sorted(os.listdir(dst)):
        if f.startswith("tcp_client"):
            path = os.path.join(dst, f)
            lines = open(path).read().splitlines(True)
            # Drop the end record and cut the close before it mid-way.
            body = "".join(lines[:-2]) + lines[-2][:40]
            with open(path, "w") as out:
                out.write(body + "\0" * 64)
    print("made killed")


if __name__ == "__main__":
    main()
