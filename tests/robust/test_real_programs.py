"""Real client/server programs from Debian, both sides under the shim,
each with its own ordinary workload, and the same workload without the
shim for comparison. Each must behave the same (same output, same counts
reported by the programs themselves) and its trace must hold every
connection, complete in the viewer's pairing (connect with accept, every
data call with the other side's, bytes equal both ways).

- curl against python3 -m http.server (tests/integration/test_curl.py
  traces curl alone; here the server too, and several requests);
- socat as a TCP relay in front of a socat echo server (PIPE): two
  connections per client, 256 KiB each way, relayed through fork()ed
  children; and socat's EXEC:cat, where the data reaches cat through a
  socketpair inherited across fork and exec;
- Python's socketserver.ForkingTCPServer: the forking server pattern
  (socat's fork option, inetd, pre-fork servers) made deterministic: the
  parent closes its copy of the connection before the child uses it;
- redis-server under redis-benchmark (Debian package redis-server);
- memcached under memcslap (Debian packages memcached, libmemcached-tools);
- nginx serving an 8 MiB file with sendfile to curl (Debian package nginx),
  also with short= on its sendfile calls;
- git daemon serving a clone (Debian package git): its upload-pack writes
  the ref advertisement with stdio on the socket (fwrite, fflush);
- PostgreSQL (Debian package postgresql): pgbench -i and a run of four
  clients on two threads over its unix socket, psql over TCP and the
  socket; the viewer's picture of it checked whole (tests/view/properties.py).

A program that is not installed makes its test skip and name the package.
Servers write their logs to files: a pipe nobody reads would stop them."""

import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

import rtest
import sttest
from rtest import check, check_eq, need_program
from rtest import properties

SEND_FNS = rtest.SEND_FNS
RECV_FNS = rtest.RECV_FNS


def start_server(sb, argv_for_port, traced, out=None, name="server", env=None):
    """Starts a server that takes its port on the command line, on a free
    port (retried when another process took it first); returns (proc,
    port). Its output goes to a log file in the sandbox."""
    log = os.path.join(sb.dir, "%s-%s.log" % (name, "traced" if traced else "plain"))
    for _ in range(5):
        port = sttest.free_port()
        argv = ["sh", "-c", 'exec "$0" "$@" >>"%s" 2>&1' % log] + \
            [str(a) for a in argv_for_port(port)]
        proc = sb.spawn(argv, traced=traced, out=out, env=env)
        try:
            sttest.wait_port(port, proc=proc)
            return proc, port
        except sttest.Fail:
            if proc.poll() is None:
                raise
    raise sttest.Fail("could not start %s; its log:\n%s" % (name, open(log).read()[-2000:]))


def stop(sb, proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    return sb.finish(proc, check_rc=False)


# --- curl and http.server ----------------------------------------------------

def test_curl_and_http_server(sb):
    curl = need_program("curl", "curl")
    root = os.path.join(sb.dir, "www")
    os.mkdir(root)
    pages = {"a.txt": b"first page\n" * 100, "b.bin": bytes(range(256)) * 300,
             "c.txt": b""}
    for name, body in pages.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(body)

    def run(traced):
        server, port = start_server(
            sb, lambda p: [sys.executable, "-m", "http.server", p, "--bind", "127.0.0.1",
                           "--directory", root], traced, name="http")
        outdir = os.path.join(sb.dir, "got-%s" % traced)
        os.mkdir(outdir)
        argv = [curl, "-s", "-S", "--noproxy", "*", "--max-time", "20",
                "-w", "%{http_code} %{size_request} %{size_header} %{size_download}\n"]
        for name in list(pages) + ["missing"]:
            argv += ["-o", os.path.join(outdir, name),
                     "http://127.0.0.1:%d/%s" % (port, name)]
        res = sb.run(argv, traced=traced, check_rc=False, timeout=30)
        stop(sb, server, signal.SIGINT)
        got = {}
        for name in pages:
            with open(os.path.join(outdir, name), "rb") as f:
                got[name] = f.read()
        return res, port, got

    plain, _, plain_got = run(False)
    traced, port, traced_got = run(True)
    check_eq(traced.returncode, plain.returncode, "curl's status with the shim")
    check_eq(plain.returncode, 0, "curl's status")
    check_eq(traced_got, plain_got, "the pages curl saved with the shim")
    check_eq(plain_got, pages, "the pages curl saved")
    lines = [list(map(int, line.split())) for line in traced.out.splitlines()]
    check_eq([line[0] for line in lines], [line[0] for line in
                                             (list(map(int, x.split()))
                                              for x in plain.out.splitlines())],
             "HTTP statuses with and without the shim")

    trace = sb.trace()
    rtest.check_files_clean(trace, allow_killed=())
    events, _ = rtest.view_jsonl(sb.out)
    conns = rtest.check_pairing(events, "127.0.0.1:%d" % port, expect_conns=4,
                                untraced_clients=(1,))
    # Per request, what curl says it sent and received is in the trace.
    by_order = sorted(conns, key=lambda c: c.connects[0]["seq"])
    for c, (code, size_request, size_header, size_download) in zip(by_order, lines):
        check_eq(c.sent["client"], size_request, "bytes of request c%s" % c.id, c.data[:4])
        check_eq(c.received["client"], size_header + size_download,
                 "bytes of response c%s" % c.id, c.data[:4])


# --- socat -------------------------------------------------------------------

def socat_client(sb, socat, port, data, traced):
    inp = os.path.join(sb.dir, "in.bin")
    with open(inp, "wb") as f:
        f.write(data)
    with open(inp, "rb") as stdin:
        res = sb.run([socat, "-t", "5", "-T", "20", "-", "TCP:127.0.0.1:%d" % port],
                     traced=traced, stdin=stdin, timeout=40)
    return res


def test_socat_relay(sb):
    socat = need_program("socat", "socat")
    data = os.urandom(256 * 1024)

    def run(traced):
        echo, echo_port = start_server(
            sb, lambda p: [socat, "TCP-LISTEN:%s,bind=127.0.0.1,reuseaddr,fork" % p, "PIPE"],
            traced, name="echo")
        relay, relay_port = start_server(
            sb, lambda p: [socat, "TCP-LISTEN:%s,bind=127.0.0.1,reuseaddr,fork" % p,
                           "TCP:127.0.0.1:%d" % echo_port], traced, name="relay")
        res = socat_client(sb, socat, relay_port, data, traced)
        time.sleep(0.2)  # let the forked children finish their side
        stop(sb, relay)
        stop(sb, echo)
        return res, echo_port, relay_port, relay

    plain, _, _, _ = run(False)
    check(plain.raw_out == data, "socat relays the data back unchanged (without the shim)")
    traced, echo_port, relay_port, relay = run(True)
    check(traced.raw_out == data, "socat relays the data back unchanged under the shim")

    events, _ = rtest.view_jsonl(sb.out)
    # The client's connection to the relay: one, complete. The relay's
    # connections to the echo server, made by forked children of the
    # relay: two, for the relay served the test's untraced probe (which
    # saw its port open) too, and that one moved no data.
    (c,) = rtest.check_pairing(events, "127.0.0.1:%d" % relay_port, expect_conns=1,
                               untraced_clients=(1,), what="client to relay")
    check_eq((c.sent["client"], c.sent["server"]), (len(data), len(data)),
             "client to relay: bytes each way", c.data[:4])
    relayed = rtest.check_pairing(events, "127.0.0.1:%d" % echo_port, expect_conns=2,
                                  untraced_clients=(1,), what="relay to echo")
    check_eq(sorted((c.sent["client"], c.sent["server"]) for c in relayed),
             [(0, 0), (len(data), len(data))], "relay to echo: bytes each way")
    check(all(e.get("prog") == "socat" and e["pid"] != relay.pid
              for c in relayed for e in c.connects),
          "the relay's connections are made by its forked children",
          [e for c in relayed for e in c.connects])


def test_socat_exec_cat(sb):
    """socat's EXEC:cat: the TCP connection is accepted by socat, served by
    a forked child, and the bytes reach cat (exec'd in a grandchild)
    through a socketpair. The TCP connection must be complete."""
    socat = need_program("socat", "socat")
    data = os.urandom(128 * 1024)
    server, port = start_server(
        sb, lambda p: [socat, "TCP-LISTEN:%s,bind=127.0.0.1,reuseaddr,fork" % p, "EXEC:cat"],
        True, name="exec")
    res = socat_client(sb, socat, port, data, True)
    check(res.raw_out == data, "data echoed through cat under the shim")
    time.sleep(0.2)
    stop(sb, server)
    events, _ = rtest.view_jsonl(sb.out)
    (c,) = rtest.check_pairing(events, "127.0.0.1:%d" % port, expect_conns=1,
                               untraced_clients=(1,))
    check_eq((c.sent["client"], c.sent["server"]), (len(data), len(data)),
             "bytes each way on the TCP connection", c.data[:4])
    # cat itself: it read and wrote every byte, on a socket.
    cats = [e for e in events if e.get("prog") == "cat" and e.get("rec") == "call"]
    check_eq((sum(e.get("bytes", 0) for e in cats if e["fn"] in RECV_FNS),
              sum(e.get("bytes", 0) for e in cats if e["fn"] in SEND_FNS)),
             (len(data), len(data)), "bytes cat read and wrote on its socket", cats[:4])


# --- the forking server pattern ---------------------------------------------

FORKING_SERVER = r"""
import socketserver, sys, time
class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        time.sleep(0.3)  # by now the parent has closed its copy of the socket
        data = self.rfile.read()
        self.wfile.write(b"got %d bytes\n" % len(data))
with socketserver.ForkingTCPServer(("127.0.0.1", 0), Handler) as server:
    print("listening on %d" % server.server_address[1], flush=True)
    for _ in range(int(sys.argv[1])):
        server.handle_request()
"""

FORKING_CLIENT = r"""
import socket, sys
data = bytes(range(256)) * int(sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as c:
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        reply += chunk
print(reply.decode().strip())
"""


def test_forking_server_pattern(sb):
    """Python's socketserver.ForkingTCPServer, the pattern of socat's fork
    option, inetd and every pre-fork server: the parent accepts, forks, and
    closes its copy of the connection at once; the child serves it. The
    parent's close is not the end of the connection: the data the child
    reads and writes afterwards must still be paired (deterministic here:
    the child waits until the parent has closed its copy)."""
    conns, size = 3, 400  # 400 x 256 bytes = 100 KiB per connection
    server = sb.spawn([sys.executable, "-c", FORKING_SERVER, conns])
    port = sb.wait_listening(server)
    for _ in range(conns):
        res = sb.run([sys.executable, "-c", FORKING_CLIENT, port, size])
        check_eq(res.out, "got %d bytes\n" % (256 * size), "the server's answer")
    sb.finish(server)
    trace = sb.trace()
    trace.check_clean()
    parent = trace.file(pid=server.pid)
    check_eq(len(parent.calls(fn=("accept", "accept4"), ret=lambda r: r >= 0)), conns,
             "accepts in the parent")
    events, _ = rtest.view_jsonl(sb.out)
    done = rtest.check_pairing(events, "127.0.0.1:%d" % port, expect_conns=conns)
    for c in done:
        check_eq((c.sent["client"], c.received["server"]), (256 * size, 256 * size),
                 "c%s: bytes to the server" % c.id, c.data[:4])


# --- redis -------------------------------------------------------------------

def redis_info(cli, port):
    out = subprocess.run([cli, "-p", str(port), "info", "stats"], capture_output=True,
                         text=True, timeout=10).stdout
    return {k: int(v) for k, v in re.findall(r"^(total_\w+):(\d+)", out, re.M)}


def test_redis_benchmark(sb):
    server_bin = need_program("redis-server", "redis-server")
    bench = need_program("redis-benchmark", "redis-tools (with redis-server)")
    cli = need_program("redis-cli", "redis-tools (with redis-server)")
    requests, clients = 2000, 10

    def run(traced):
        server, port = start_server(
            sb, lambda p: [server_bin, "--port", p, "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", sb.dir, "--loglevel", "warning"],
            traced, name="redis")
        res = sb.run([bench, "-p", port, "-n", requests, "-c", clients, "-t", "set,get", "-q"],
                     traced=traced, timeout=60)
        info = redis_info(cli, port)
        subprocess.run([cli, "-p", str(port), "shutdown", "nosave"], capture_output=True,
                       timeout=10)
        end = sb.finish(server, check_rc=False)
        check_eq(end.returncode, 0, "redis-server's status after shutdown (traced %s)" % traced)
        return res, port, info

    plain, _, plain_info = run(False)
    traced, port, info = run(True)
    for res in (plain, traced):
        check(re.search(r"SET: [\d.]+ requests per second", res.out) and
              re.search(r"GET: [\d.]+ requests per second", res.out),
              "redis-benchmark finished both tests: %r" % res.out[-400:])
    check_eq(info["total_commands_processed"], plain_info["total_commands_processed"],
             "commands redis processed with and without the shim")
    check_eq(info["total_connections_received"], plain_info["total_connections_received"],
             "connections redis received with and without the shim")

    trace = sb.trace()
    trace.check_clean()
    srv = trace.file(prog="redis-server")
    accepts = srv.calls(fn=("accept", "accept4"), ret=lambda r: r >= 0)
    # redis counts the INFO connection itself before it answers; the
    # SHUTDOWN connection comes after.
    check_eq(len(accepts), info["total_connections_received"] + 1,
             "accepts in redis-server's trace vs its own count (+1: SHUTDOWN)", accepts[-3:])
    events, _ = rtest.view_jsonl(sb.out)
    # Untraced clients: the port probe, INFO and SHUTDOWN.
    conns = rtest.check_pairing(events, "127.0.0.1:%d" % port, untraced_clients=(3,))
    check_eq(len(conns), info["total_connections_received"] - 2,
             "redis-benchmark's connections, complete")
    check(all(e.get("prog") == "redis-benchmark" for c in conns for e in c.connects),
          "they are redis-benchmark's", [e for c in conns for e in c.connects][:3])


# --- memcached ---------------------------------------------------------------

def test_memcached_memcslap(sb):
    server_bin = need_program("memcached", "memcached")
    slap = need_program("memcslap", "libmemcached-tools")

    def run(traced):
        user = ["-u", "root"] if os.geteuid() == 0 else []
        server, port = start_server(
            sb, lambda p: [server_bin] + user + ["-p", p, "-l", "127.0.0.1", "-U", "0",
                                                 "-t", "2"], traced, name="memcached")
        outs = []
        for test in ("set", "get"):
            res = sb.run([slap, "--servers=127.0.0.1:%d" % port, "--concurrency=4",
                          "--execute-number=500", "--test=" + test], traced=traced,
                         timeout=60)
            outs.append(res)
        stop(sb, server)
        return outs, port

    plain, _ = run(False)
    traced, port = run(True)
    for a, b in zip(plain, traced):
        summary = [re.sub(r"[\d.]+ seconds", "", line) for line in a.out.splitlines()]
        summary_t = [re.sub(r"[\d.]+ seconds", "", line) for line in b.out.splitlines()]
        check_eq(summary_t, summary, "memcslap's report (times left out) with the shim")
    check(any("2000 keys" in line for line in traced[0].out.splitlines()),
          "memcslap set 2000 keys: %r" % traced[0].out)

    events, _ = rtest.view_jsonl(sb.out)
    conns = rtest.check_pairing(events, "127.0.0.1:%d" % port, untraced_clients=(1,))
    check(len(conns) >= 8, "memcslap's connections (4 per run, 2 runs): %d" % len(conns))


# --- nginx -------------------------------------------------------------------

NGINX_CONF = """
%(user)s
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 64; }
http {
    access_log %(dir)s/access.log;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    sendfile on;
    server {
        listen 127.0.0.1:%(port)d;
        root %(dir)s/www;
    }
}
"""


def test_nginx_sendfile(sb):
    """nginx sends a static file with sendfile (its default with
    `sendfile on`, and the call that once left an 8 MiB download showing
    246 bytes sent: the headers). A master and one worker, started by the
    test on a free port with everything of theirs in the sandbox; curl
    fetches the file. curl's bytes equal nginx's (the file by sendfile,
    the headers by writev) and the file's size plus the headers, every
    data call is paired, and the file arrives whole. Again with short= on
    nginx's sendfile: nginx sends the rest in more calls, and the
    download is the same."""
    nginx = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin")
    if not nginx:
        rtest.skip("nginx is not installed (Debian package nginx)")
    curl = need_program("curl", "curl")
    size = 8 << 20
    body = os.urandom(size)
    prefix = os.path.join(sb.dir, "nginx")
    os.makedirs(os.path.join(prefix, "www"))
    with open(os.path.join(prefix, "www", "big.bin"), "wb") as f:
        f.write(body)
    # As root nginx's worker becomes nobody, as it does in production: the
    # shim makes the worker's trace file before the user changes
    # (test_identity.py), and nobody must be able to read the file served.
    user = ""
    if os.geteuid() == 0:
        for d in (sb.dir, prefix, os.path.join(prefix, "www")):
            os.chmod(d, 0o755)
        os.chmod(os.path.join(prefix, "www", "big.bin"), 0o644)
    chunk = 65536

    def run(traced, tag, rules=()):
        def argv(port):
            conf = os.path.join(prefix, "nginx-%s.conf" % tag)
            with open(conf, "w") as f:
                f.write(NGINX_CONF % {"dir": prefix, "port": port, "user": user})
            return [nginx, "-p", prefix, "-e", os.path.join(prefix, "error.log"), "-c", conf,
                    "-g", "daemon off; master_process on;"]
        out = os.path.join(sb.dir, "trace-" + tag)
        env = {"SOCKTRACE_FAULTS": ";".join(rules)} if rules else None
        server, port = start_server(sb, argv, traced, out=out, name="nginx-" + tag, env=env)
        got = os.path.join(sb.dir, "got-" + tag)
        res = sb.run([curl, "-s", "-S", "--noproxy", "*", "--max-time", "30", "-o", got,
                      "-w", "%{http_code} %{size_header} %{size_download}",
                      "http://127.0.0.1:%d/big.bin" % port], traced=traced, out=out, timeout=40)
        end = stop(sb, server, signal.SIGQUIT)
        check_eq(end.returncode, 0, "nginx's status after SIGQUIT (%s)" % tag)
        with open(got, "rb") as f:
            check(hashlib.sha256(f.read()).digest() == hashlib.sha256(body).digest(),
                  "the file curl saved is the file (%s)" % tag)
        code, size_header, size_download = map(int, res.out.split())
        check_eq((code, size_download), (200, size), "curl's status and bytes (%s)" % tag)
        return out, port, size_header

    plain_header = run(False, "plain")[2]
    for tag, rules in (("traced", ()), ("short", ("sendfile short=%d" % chunk,))):
        out, port, size_header = run(True, tag, rules)
        check_eq(size_header, plain_header, "size of the headers, with and without the shim")
        trace = sttest.Trace(out)
        rtest.check_files_clean(trace)
        worker = [f for f in trace.files_of(prog="nginx") if f.calls(fn=("accept", "accept4"))]
        check_eq(len(worker), 1, "one nginx process accepted the connection (%s)" % tag)
        files = worker[0].calls(fn=("sendfile", "sendfile64"), ret=lambda r: r >= 0)
        check_eq(sttest.total(files), size, "bytes nginx sent with sendfile (%s)" % tag, files[-3:])
        heads = worker[0].calls(fn=SEND_FNS, ret=lambda r: r >= 0)
        check_eq(sttest.total(heads) - sttest.total(files), size_header,
                 "bytes nginx sent otherwise: the headers (%s)" % tag, heads[:3])
        events, _ = rtest.view_jsonl(out)
        conns = rtest.check_pairing(events, "127.0.0.1:%d" % port, expect_conns=1,
                                    untraced_clients=(1,))
        check_eq(conns[0].received["client"], size + size_header,
                 "bytes curl received: the file and the headers (%s)" % tag)
        if rules:
            check(len(files) >= size // chunk, "nginx sent %d bytes a call at most: %d calls"
                  % (chunk, len(files)))
            for e in files:
                check(e["bytes"] <= chunk, "a sendfile cut to %d bytes" % chunk, [e])
                check_eq(e.get("fault", {}).get("action"), "short", "the fault on it", [e])


# --- git daemon --------------------------------------------------------------

def make_repo(sb, git):
    """A bare repository with 30 files, 12 branches and 12 tags: a ref
    advertisement of a few kilobytes, which upload-pack buffers in stdio."""
    src = os.path.join(sb.dir, "src")
    base = os.path.join(sb.dir, "served")
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", HOME=sb.dir)
    subprocess.run([git, "init", "-q", src], check=True, env=env)
    for i in range(30):
        with open(os.path.join(src, "f%d" % i), "wb") as f:
            f.write(os.urandom(3000).hex().encode())
    subprocess.run([git, "-C", src, "add", "."], check=True, env=env)
    subprocess.run([git, "-C", src, "commit", "-q", "-m", "first"], check=True, env=env)
    for i in range(12):
        subprocess.run([git, "-C", src, "branch", "b%d" % i], check=True, env=env)
        subprocess.run([git, "-C", src, "tag", "v%d" % i], check=True, env=env)
    os.makedirs(base)
    subprocess.run([git, "clone", "-q", "--bare", src, os.path.join(base, "repo.git")],
                   check=True, env=env)
    head = subprocess.run([git, "-C", src, "rev-parse", "HEAD"], check=True, env=env,
                          capture_output=True, text=True).stdout.strip()
    return base, head


def test_git_daemon_clone(sb):
    """git clone from git daemon, both traced. git daemon runs
    upload-pack with the connection as its standard input and output,
    and upload-pack writes the ref advertisement with fwrite and fflush:
    bytes that no socket hook sees, which once were missing from the
    trace. Now they are records ("via":"stdio"), the bytes the server's
    side wrote equal those the client read, and every data call is
    paired; the clone is whole."""
    git = need_program("git", "git")

    def run(traced, tag):
        out = os.path.join(sb.dir, "trace-" + tag)
        server, port = start_server(
            sb, lambda port: [git, "daemon", "--listen=127.0.0.1", "--port=%d" % port,
                              "--reuseaddr", "--export-all", "--base-path=" + base, base],
            traced, out=out, name="git-daemon-" + tag, env={"HOME": sb.dir})
        dest = os.path.join(sb.dir, "clone-" + tag)
        sb.run([git, "clone", "-q", "git://127.0.0.1:%d/repo.git" % port, dest],
               traced=traced, out=out, env={"HOME": sb.dir}, timeout=60)
        stop(sb, server)
        got = subprocess.run([git, "-C", dest, "rev-parse", "HEAD"], capture_output=True,
                             text=True, env=dict(os.environ, HOME=sb.dir))
        check_eq(got.stdout.strip(), head, "the clone's HEAD (%s)" % tag)
        tags = subprocess.run([git, "-C", dest, "tag"], capture_output=True, text=True,
                              env=dict(os.environ, HOME=sb.dir)).stdout.split()
        check_eq(len(tags), 12, "the clone's tags (%s)" % tag)
        return out, port

    base, head = make_repo(sb, git)
    run(False, "plain")
    out, port = run(True, "traced")
    trace = sttest.Trace(out)
    pack = [f for f in trace.files_of(prog="git") if "upload-pack" in f.header.get("argv", [])]
    check_eq(len(pack), 1, "one upload-pack process traced")
    stdio = [e for e in pack[0].calls(fn="write") if e.get("via") == "stdio"]
    check(stdio and all(e["fd"] == 1 and e["ret"] > 0 for e in stdio),
          "upload-pack's stdio writes on its standard output, the socket", stdio[:4])
    check(any("peer" in e for e in stdio), "with the connection's endpoints", stdio[:2])
    events, _ = rtest.view_jsonl(out)
    # Both ways, the bytes each side sent are those the other received:
    # without upload-pack's stdio records the server's side would be short.
    rtest.check_pairing(events, "127.0.0.1:%d" % port, expect_conns=1, untraced_clients=(1,))

# --- PostgreSQL --------------------------------------------------------------

def postgres_bin():
    import glob
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        rtest.skip("PostgreSQL is not installed (Debian package postgresql)")
    return os.path.dirname(found[-1])


def test_postgresql(sb):
    """PostgreSQL from Debian, the server and its clients traced: initdb in
    the sandbox, the postmaster on a unix socket there and on TCP, pgbench
    -i, then pgbench with four clients on two threads over the unix socket,
    and psql over TCP and over the socket. The postmaster forks a backend
    per connection and closes its copy; the clients' unix sockets are
    unnamed. Once two backends' bytes landed on one connection, others had
    no server side, and every session said the server closed first. Now:
    every connection has one client and one backend, its payloads match
    (what a recv got is what its send sent), bytes balance, every data
    call is paired, the picture holds (no link back in time, Perfetto
    flows inside their slices), and each session ended with the client
    closing first (libpq sends Terminate, then closes)."""
    bindir = postgres_bin()
    pgbench = os.path.join(bindir, "pgbench")
    psql = os.path.join(bindir, "psql")
    if not os.path.exists(psql):
        psql = need_program("psql", "postgresql-client")
    out = os.path.join(sb.dir, "trace")
    data = os.path.join(sb.dir, "data")
    sock = os.path.join(sb.dir, "sock")
    for d in (out, sock, data):
        os.makedirs(d)
    # PostgreSQL refuses to run as root: as the postgres user then, with
    # the sandbox open to it.
    preexec = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            rtest.skip("no postgres user (Debian package postgresql creates it)")

        def preexec():
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
        os.chmod(sb.dir, 0o755)
        # The shim writes only into a directory of the process's own user.
        for d in (out, sock, data):
            os.chown(d, pw.pw_uid, pw.pw_gid)
    env = {"HOME": sb.dir, "PGHOST": sock, "PGUSER": "postgres", "PGDATABASE": "postgres"}
    if preexec:
        # The build may be where the postgres user cannot read (a clone
        # under /root): a copy of the shim it can.
        shim = os.path.join(sb.dir, os.path.basename(sttest.SHIM))
        shutil.copy(sttest.SHIM, shim)
        os.chmod(shim, 0o755)
        traced_env = dict(env, LD_PRELOAD=shim)
    else:
        traced_env = env
    sb.run([os.path.join(bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
            "--no-sync"], traced=False, env=env, preexec_fn=preexec, timeout=120)
    port = sttest.free_port()
    log = os.path.join(sock, "postgres.log")
    server = sb.spawn(["sh", "-c", 'exec "$0" "$@" >>"%s" 2>&1' % log,
                       os.path.join(bindir, "postgres"), "-D", data, "-k", sock, "-p", port,
                       "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                      traced=True, out=out, env=traced_env, preexec_fn=preexec)
    sttest.wait_port(port, proc=server)
    # The port opens before recovery ends ("the database system is
    # starting up" to a client that comes too early, on a loaded machine).
    deadline = time.monotonic() + 60
    while "ready to accept connections" not in open(log, errors="replace").read():
        check(time.monotonic() < deadline and server.poll() is None,
              "PostgreSQL became ready", [open(log, errors="replace").read()[-800:]])
        time.sleep(0.05)
    opts = dict(traced=True, out=out, env=traced_env, preexec_fn=preexec, timeout=120)
    sb.run([pgbench, "-p", port, "-i", "-s", "1", "-q"], **opts)
    # Two threads: their connects to the unix socket come within
    # nanoseconds of each other; the socket inodes tell them apart.
    res = sb.run([pgbench, "-p", port, "-c", "4", "-j", "2", "-t", "20", "-n"], **opts)
    check("number of failed transactions: 0" in res.out or
          "number of transactions actually processed: 80/80" in res.out,
          "pgbench ran all its transactions", [res.out[-800:]])
    got = sb.run([psql, "-p", port, "-h", "127.0.0.1", "-At", "-c", "select 6*7"], **opts)
    check_eq(got.out.strip(), "42", "psql's answer over TCP")
    got = sb.run([psql, "-p", port, "-At", "-c", "select count(*) from pgbench_branches"], **opts)
    check_eq(got.out.strip(), "1", "psql's answer over the unix socket")
    sb.run([os.path.join(bindir, "pg_ctl"), "-D", data, "stop", "-m", "fast"], traced=False,
           env=env, preexec_fn=preexec, timeout=60)
    sb.finish(server, check_rc=False)

    events, _ = rtest.view_jsonl(out)
    conns, linked = rtest.connections(events)
    sock_path = "unix:" + os.path.join(sock, ".s.PGSQL.%d" % port)
    unix = [c for c in conns.values() if any(e.get("local") == sock_path for e in c.accepts)]
    # One more, untraced: the test's own probe of the port.
    tcp = rtest.check_pairing(events, "127.0.0.1:%d" % port, expect_conns=1,
                              untraced_clients=(1,))
    # pgbench -i: 1; pgbench: its first connection and one per client; psql.
    check_eq(len(unix), 1 + 1 + 4 + 1, "unix connections, each with its own accept")
    for c in unix + tcp:
        check_eq(len(c.connects), 1, "c%s: one client's connect" % c.id, c.accepts)
        pids = {e["pid"] for e in c.data if e.get("side") == "server"}
        check_eq(len(pids), 1, "c%s: one backend serves it" % c.id, c.data[:4])
        check_eq(c.sent["client"], c.received["server"], "c%s: client -> server bytes" % c.id)
        check_eq(c.sent["server"], c.received["client"], "c%s: server -> client bytes" % c.id)
        unpaired = [e for e in c.data if e["seq"] not in linked]
        check(not unpaired, "c%s: every data call paired" % c.id, unpaired[:4])
    backends = [{e["pid"] for e in c.data if e.get("side") == "server"} for c in unix]
    check_eq(len(set().union(*backends)), len(unix), "a backend per unix connection")
    check_eq(properties.check(rtest.tool(), out), [], "what must hold of the picture")
    stats = subprocess.run([rtest.tool(), "stats", "-a", out], capture_output=True, text=True,
                           timeout=120)
    # Who closed first, against the trace's own clock: libpq sends
    # Terminate and closes, the backend exits when it reads it (the kernel
    # closes its end), and either may come first (a client preempted in
    # its send).
    ends = {l.split(" ", 1)[0]: l for l in stats.stdout.splitlines()}
    exits = {e["pid"]: e["ts"] for e in events if e.get("rec") == "end"}
    for c in unix + tcp:
        def fin(side):
            # The process that used the connection: the postmaster's close
            # of its copy after the fork is no FIN.
            pids = {e["pid"] for e in c.data if e.get("side") == side}
            t = [e["ts"] for e in c.closes if e.get("side") == side and e["pid"] in pids]
            return min(t + [exits[p] for p in pids if p in exits] or [float("inf")])
        want = "client" if fin("client") < fin("server") else "server"
        line = ends.get("c%s" % c.id, "")
        check(re.search(r"  %s (closed|shut down|exited) first( \(\w+ read EOF\))?$" % want, line),
              "c%s ended: %s closed first, by the "
              "trace's times; stats says %r" % (c.id, want, line))


if __name__ == "__main__":
    rtest.main()
