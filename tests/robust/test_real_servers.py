"""Programs that do what the earlier real-program tests do not: sandbox
themselves with seccomp, and reach the kernel through syscall(2) instead
of the libc functions the shim interposes. Each runs once without the
shim (it must work: a failure under the shim is then the shim's) and once
under it, and its trace is checked.

- sshd (Debian package openssh-server; ssh and ssh-keygen from
  openssh-client): a login with a throwaway key to a throwaway sshd on a
  loopback port, 2 MB piped through `sha256sum` on the server. sshd's
  pre-auth child runs under a seccomp filter that kills the process for
  any system call it does not expect (unlinkat, ftruncate, fallocate,
  prlimit64, mincore, msync, ...; openat and fstat are refused with
  EACCES): the login must work, and the trace must hold the connection
  complete or say how many records it could not write. Again with call
  stacks (libunwind's memory checks are such calls).
- tests/robust/progs/seccomp_strict.c: a filter that allows only the
  calls the program itself makes, installed with prctl, with libseccomp
  (Debian package libseccomp-dev, at build time), and by a fork()ed child
  before its first socket call.
- Node.js (Debian package nodejs): libuv closes sockets with
  syscall(SYS_close, fd). An HTTP keep-alive client and server, and a
  server that closes its listening socket and then watches a directory
  (inotify gets the socket's number): every socket's close is traced, and
  nothing is traced on a descriptor after its close as if it were still
  the socket.
- tests/robust/progs/raw_syscalls.c: a TCP connection made and used only
  through syscall(); each raw call is traced as the call itself with
  "via":"syscall", results and errno as the program saw them.

sshd needs root (privilege separation: it changes to the sshd user and
chroots to /run/sshd); without root its tests skip."""

import hashlib
import os
import re
import signal
import subprocess
import sys
import time

import rtest
import sttest
from rtest import check, check_eq, need_program

SEND_FNS = rtest.SEND_FNS
RECV_FNS = rtest.RECV_FNS
# Calls whose result is a new descriptor (the number the record's ret
# holds), and socketpair's two.
FD_MAKERS = ("socket", "accept", "accept4", "dup", "dup2", "dup3", "fcntl")


def wait_for(cond, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise sttest.Fail("%s: not within %d s" % (what, timeout))
        time.sleep(0.05)


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def check_file_readable(f, padded_ok=False):
    """A file of a process that ended normally: header, whole records, an
    end record. padded_ok: NUL bytes are allowed after the last record
    (a process under a seccomp filter cannot trim the space the writer
    reserved: ftruncate is one of the calls it may not make), never
    between records."""
    check(f.header is not None, "%s: the first line is not a header" % f.name, f.records[:1])
    check(not f.bad_lines, "%s: lines that are not JSON records: %s" % (f.name, f.bad_lines[:3]))
    check(f.incomplete_tail is None, "%s: incomplete last line %r"
          % (f.name, (f.incomplete_tail or "")[:200]))
    check(f.end is not None, "%s: no end record (the process ended normally)" % f.name,
          f.records[-3:])
    if padded_ok:
        check(not f.nul_inside, "%s: NUL bytes between records" % f.name)
    else:
        check_eq(f.nul_bytes, 0, "%s: NUL bytes in the file of a process that ended normally"
                 % f.name)


def run_tool(args, what):
    r = subprocess.run([rtest.tool()] + args, capture_output=True, text=True, timeout=60)
    check_eq(r.returncode, 0, "socktrace %s (%s); stderr: %s" % (" ".join(args), what,
                                                                 r.stderr[-1500:]))
    return r


def check_viewer_reads(trace_dir, draw=True):
    """socktrace view and stats read the directory without an error;
    returns view -f jsonl's events, or (not draw: a large trace, only
    read) None."""
    run_tool(["stats", trace_dir], "stats")
    if not draw:
        run_tool(["view", "-f", "jsonl", trace_dir], "view -f jsonl")
        return None
    run_tool(["view", trace_dir], "view")
    events, _ = rtest.view_jsonl(trace_dir)
    return events


def phantoms(tf):
    """Calls a file records on a descriptor after that descriptor's close
    and before any call made the number anew (socket, accept, dup,
    socketpair, ...): the shim's table still took the number for the
    closed socket. Returns (close record, later record) pairs."""
    closed = {}
    found = []
    for c in tf.calls():
        fn, fd, ret = c.get("fn"), c.get("fd"), c.get("ret")
        made = []
        if fn in FD_MAKERS and isinstance(ret, int) and ret >= 0:
            made.append(ret)
        if fn == "socketpair" and ret == 0:
            made.extend(c.get("fds", []))
        if fn != "socket" and fd in closed:
            found.append((closed[fd], c))
        if fn == "close" and (ret == 0 or c.get("errno") != "EBADF"):
            closed[fd] = c
        for n in made:
            closed.pop(n, None)
    return found


def check_no_phantoms(trace):
    for f in trace.files:
        bad = phantoms(f)
        check(not bad, "%s: %d calls traced on a descriptor after its close, as if it were "
              "still the socket (its number was reused by a descriptor the shim did not see "
              "made)" % (f.name, len(bad)), [e for pair in bad[:4] for e in pair])


def tcp_listening(port):
    """Whether something listens on 127.0.0.1:port, from /proc/net/tcp
    (no connection made)."""
    want = ":%04X" % port
    for line in read_text("/proc/net/tcp").splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(want) and fields[3] == "0A":
            return True
    return False


# --- sshd --------------------------------------------------------------------

SSHD = "/usr/sbin/sshd"
DATA_SIZE = 2000000


class SshSetup:
    """Host key, user key, authorized_keys and sshd_config, all in the
    sandbox; the port is chosen when sshd starts."""

    def __init__(self, sb):
        if os.geteuid() != 0:
            sttest.skip("sshd needs root here (privilege separation chroots to /run/sshd "
                        "and changes to the sshd user)")
        self.sshd = need_program(SSHD, "openssh-server")
        self.ssh = need_program("ssh", "openssh-client")
        keygen = need_program("ssh-keygen", "openssh-client")
        self.dir = sb.dir
        # The privilege separation directory, as Debian's service creates
        # it at boot: sshd refuses to start without it.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.host_key = os.path.join(sb.dir, "host_ed25519")
        self.user_key = os.path.join(sb.dir, "user_ed25519")
        for key in (self.host_key, self.user_key):
            subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", key], check=True,
                           capture_output=True, timeout=30)
        self.auth_keys = os.path.join(sb.dir, "authorized_keys")
        with open(self.user_key + ".pub") as src, open(self.auth_keys, "w") as dst:
            dst.write(src.read())
        self.data = os.path.join(sb.dir, "data.bin")
        with open(self.data, "wb") as f:
            f.write(os.urandom(DATA_SIZE))
        with open(self.data, "rb") as f:
            self.sha256 = hashlib.sha256(f.read()).hexdigest()

    def config(self, port, name):
        path = os.path.join(self.dir, "sshd_config-%s" % name)
        with open(path, "w") as f:
            f.write("\n".join([
                "Port %d" % port,
                "ListenAddress 127.0.0.1",
                "HostKey %s" % self.host_key,
                "AuthorizedKeysFile %s" % self.auth_keys,
                "PidFile %s" % os.path.join(self.dir, "sshd-%s.pid" % name),
                "UsePAM no",
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UseDNS no",
                # root's shell is bash, which reads ~/.bashrc when sshd
                # starts it (Debian builds it so) unless SHLVL says it is
                # nested: a developer's .bashrc may take seconds (pyenv).
                "SetEnv SHLVL=1",
                ""]))
        return path

    def start(self, sb, traced, name, extra_env=None):
        """sshd -D on a free port, its log in a file; returns (proc, port,
        log path). Retried when another process took the port first."""
        log = os.path.join(self.dir, "sshd-%s.log" % name)
        for _ in range(5):
            port = sttest.free_port()
            cfg = self.config(port, name)
            proc = sb.spawn([self.sshd, "-D", "-e", "-f", cfg, "-E", log], traced=traced,
                            env=extra_env)
            # Not a probe connection: sshd would serve it (a child per
            # connection), and its log says when it listens.
            listening = "Server listening on 127.0.0.1 port %d." % port
            deadline = time.monotonic() + sttest.LISTEN_TIMEOUT_S
            while time.monotonic() < deadline and proc.poll() is None:
                if listening in read_text(log):
                    return proc, port, log
                time.sleep(0.05)
            if proc.poll() is None:
                raise sttest.Fail(
                    "sshd did not log that it listens on %d in %d s (%s); its log (-E %s):\n%r"
                    % (port, sttest.LISTEN_TIMEOUT_S,
                       "yet the port is listening: what it logs does not reach its log file"
                       if tcp_listening(port) else "and the port is not listening",
                       log, read_text(log)[-2000:]))
            sb.finish(proc, check_rc=False)
        raise sttest.Fail("could not start sshd; its log:\n%s" % read_text(log)[-2000:])

    def login(self, sb, port, traced, extra_env=None):
        """ssh root@127.0.0.1 sha256sum < 2 MB; returns (Result, the sum
        the server printed)."""
        argv = [self.ssh, "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-i", self.user_key,
                "-p", str(port), "root@127.0.0.1", "sha256sum"]
        with open(self.data, "rb") as stdin:
            res = sb.run(argv, traced=traced, stdin=stdin, check_rc=False, timeout=30,
                         env=extra_env)
        m = re.search(r"^([0-9a-f]{64})\s+-$", res.out, re.M)
        return res, m.group(1) if m else None


def sshd_login(sb, traced, name, extra_env=None):
    """One login; sshd stopped after it. Returns (ssh's Result, the sum it
    printed, sshd's log, port, the listener's proc)."""
    setup = sb.ssh_setup
    proc, port, log = setup.start(sb, traced, name, extra_env)
    res, digest = setup.login(sb, port, traced, extra_env)
    # The session's processes end after ssh does: let them (and write
    # their end records) before the listener goes.
    wait_for(lambda: not sttest._children_map().get(proc.pid),
             "sshd's processes for the login ended after ssh", timeout=10)
    proc.send_signal(signal.SIGTERM)
    sb.finish(proc, check_rc=False)
    return res, digest, read_text(log), port, proc


def check_sshd(sb, extra_env=None):
    sb.ssh_setup = SshSetup(sb)
    setup = sb.ssh_setup
    # Without the shim first: the machine's sshd must work at all.
    plain, plain_sum, plain_log, _, _ = sshd_login(sb, False, "plain")
    check(plain.returncode == 0 and plain_sum == setup.sha256,
          "without the shim, ssh through sshd must work (status %s, sum %s, expected %s)\n"
          "%s\nsshd's log:\n%s" % (plain.returncode, plain_sum, setup.sha256, plain.explain(),
                                   plain_log[-2000:]))

    res, digest, log, port, listener = sshd_login(sb, True, "traced", extra_env)
    check("terminated by signal" not in log,
          "sshd's log says a child was killed (seccomp: SIGSYS is signal 31):\n%s" % log[-2000:])
    check_eq(res.returncode, 0, "ssh's status under the shim\n%s\nsshd's log:\n%s"
             % (res.explain(), log[-2000:]))
    check_eq(digest, setup.sha256, "the sum sha256sum printed on the server, for 2 MB sent "
             "through ssh under the shim")

    trace = sb.trace()
    sshds = [f for f in trace.files if f.prog == "sshd"]
    check(len(sshds) >= 3, "trace files of sshd's processes (listener, per-connection sshd, "
          "its pre-auth child, ...): %s" % [f.name for f in trace.files])
    # The pre-auth child, and only it, installed a filter, once; only its
    # file keeps the writer's NUL padding (it may not ftruncate).
    sandboxed = [f for f in sshds if seccomp_warnings(f)]
    check_eq([len(seccomp_warnings(f)) for f in sandboxed], [1],
             "seccomp warnings in sshd's files (the pre-auth child's filter)",
             [w for f in sandboxed for w in seccomp_warnings(f)][:4])
    check_eq(seccomp_warnings(sandboxed[0])[0].get("how"), "prctl", "how sshd installs it")
    for f in trace.files:
        check_file_readable(f, padded_ok=f in sandboxed)
    events = check_viewer_reads(sb.out)

    top = trace.file(pid=listener.pid)
    accepts = top.calls(fn=("accept", "accept4"), ret=lambda r: r >= 0)
    check_eq(len(accepts), 1, "the listener's accept of the login's connection", top.calls())
    check_eq(accepts[0].get("local"), "127.0.0.1:%d" % port, "the accept's local address",
             accepts)

    dropped = {f.name: f.end["dropped"] for f in trace.files if f.end and f.end.get("dropped")}
    addr = "127.0.0.1:%d" % port
    if not dropped:
        (c,) = rtest.check_pairing(events, addr, expect_conns=1)
        check(c.sent["client"] > DATA_SIZE, "bytes ssh sent (2 MB and the protocol's): %d"
              % c.sent["client"], c.data[:4])
        check(all(e.get("prog") == "ssh" for e in c.connects), "the client is ssh", c.connects)
    else:
        # Records the sandboxed child could not write are counted, not
        # lost silently; the connection is still there end to end.
        check(all(n > 0 for n in dropped.values()), "dropped counts: %s" % dropped)
        conns, _ = rtest.connections(events)
        mine = [c for c in conns.values() if c.connects and c.accepts
                and any(e.get("peer") == addr for e in c.connects)]
        check_eq(len(mine), 1, "the login's connection, with connect and accept (records "
                 "dropped: %s)" % dropped)
        c = mine[0]
        check(c.received["server"] <= c.sent["client"] and
              c.sent["server"] <= c.received["client"],
              "with records dropped (%s), the server side cannot show more than the client "
              "moved: %s %s" % (dropped, c.sent, c.received), c.data[:4])
    return trace, events


def test_sshd_login(sb):
    check_sshd(sb)


def test_sshd_login_with_stacks(sb):
    """The same with call stacks: libunwind checks addresses with mincore
    (then msync), which sshd's filter kills."""
    trace, _ = check_sshd(sb, {"SOCKTRACE_BACKTRACE": "8"})
    with_stack = [c for f in trace.files for c in f.calls() if "stack" in c]
    check(with_stack, "call stacks in the trace (SOCKTRACE_BACKTRACE=8)")


FD_KEEPER = r"""
import os, socket, sys
os.closerange(3, 1 << 20)  # as daemons do: sshd calls closefrom(3)
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
a, b = socket.socketpair()
for i in range(20):
    a.send(b"x")
    b.recv(1)
os.write(log, b"log line\n")
print("log fd %d, sockets %d %d" % (log, a.fileno(), b.fileno()))
"""


def test_stacks_keep_the_programs_descriptors(sb):
    """What became of sshd's log under SOCKTRACE_BACKTRACE, made small: a
    program closes every descriptor from 3 up (the shim's own excepted),
    opens its log (it gets 3) and makes a socketpair (4 and 5). The call
    stacks' unwinder had a pipe of its own at 3 and 4 from before the
    sweep; finding it gone, it closed 3 and 4 (the program's log and
    socket) and made its pipe there again."""
    log = os.path.join(sb.dir, "program.log")
    plain = sb.run([sys.executable, "-c", FD_KEEPER, log], traced=False)
    check_eq(plain.out, "log fd 3, sockets 4 5\n", "without the shim")
    os.unlink(log)
    res = sb.run([sys.executable, "-c", FD_KEEPER, log], check_rc=False,
                 env={"SOCKTRACE_BACKTRACE": "8"})
    check_eq((res.returncode, res.out), (0, plain.out),
             "the program's status and output with call stacks on\n" + res.explain())
    check_eq(read_text(log), "log line\n", "what the program wrote to its log")
    trace = sb.trace()
    trace.check_clean()
    sends = trace.calls(fn="send", pid=res.pid)
    check_eq(len(sends), 20, "the sends, traced", sends[:3])
    check(all("stack" in c for c in sends), "each with its stack", sends[:3])


# --- seccomp_strict ---------------------------------------------------------

def seccomp_run(sb, prog, how, rounds):
    """Runs seccomp_strict without, then with the shim; returns the traced
    Result and the numbers it printed."""
    plain = sb.run([prog, how, rounds], traced=False, check_rc=False)
    check_eq(plain.returncode, 0, "seccomp_strict %s %s without the shim\n%s"
             % (how, rounds, plain.explain()))
    res = sb.run([prog, how, rounds], check_rc=False)
    check(res.returncode != -signal.SIGSYS and "killed by signal 31" not in res.out,
          "seccomp_strict %s %s was killed by SIGSYS under the shim: the shim made a system "
          "call the filter does not allow\n%s" % (how, rounds, res.explain()))
    check_eq(res.returncode, 0, "seccomp_strict %s %s's status under the shim\n%s"
             % (how, rounds, res.explain()))
    check_eq(res.out, plain.out, "seccomp_strict's output with and without the shim")
    nums = dict((k, int(v)) for k, v in re.findall(r"^(before|after): (\d+)$", res.out, re.M))
    return res, nums


# seccomp_strict's calls before its filter (tests/robust/progs/seccomp_strict.c).
BEFORE_FILTER = ["socket", "bind", "listen", "getsockname", "socket", "connect", "accept",
                 "send", "recv"]
# A record of one of its calls is longer than this (a send is about 200
# bytes). Under the filter the file cannot grow: its size after a short
# run is all the room there is (the warning's room is a lower bound, the
# mapping is made in whole segments), and more records than
# size // RECORD_MIN overflow it.
RECORD_MIN = 150 if rtest.sttest.FORMAT == "jsonl" else 20


def seccomp_warnings(f):
    return [r for r in f.records if r["rec"] == "warning" and r.get("kind") == "seccomp"]


def check_filtered_file(f, calls_before, calls_after, first_after_fn, how):
    """The file of the process that installed the filter: the calls made
    before it, then one seccomp warning (its room: what was mapped), then
    the calls made under it, every one there or counted as dropped in the
    end record. Returns (calls after, dropped, the file's size: all the
    room it had)."""
    check_file_readable(f, padded_ok=True)
    warnings = seccomp_warnings(f)
    check_eq(len(warnings), 1, "%s: seccomp warnings (one filter installed, once)" % f.name,
             warnings[:4])
    w = warnings[0]
    check_eq(w.get("how"), how, "%s: the warning's how" % f.name, [w])
    check(isinstance(w.get("room"), int) and w["room"] > 0, "%s: the warning's room" % f.name,
          [w])
    calls = f.calls()
    check_eq([c["fn"] for c in calls[:calls_before]], BEFORE_FILTER[:calls_before],
             "%s: the calls made before the filter" % f.name, calls[:calls_before + 1])
    at = f.records.index(w)
    check_eq(len([r for r in f.records[:at] if r["rec"] == "call"]), calls_before,
             "%s: calls before the warning (it marks where the filter came)" % f.name, [w])
    after = calls[calls_before:]
    dropped = f.end.get("dropped", 0)
    check_eq(len(after) + dropped, calls_after,
             "%s: records of the calls made under the filter (%d) + dropped (%d)"
             % (f.name, len(after), dropped), after[:3] + after[-3:])
    if calls_after:
        check(after and after[0]["fn"] == first_after_fn,
              "%s: the first call under the filter (%s) is in the trace: there was room for "
              "it" % (f.name, first_after_fn), after[:3])
    size = os.path.getsize(f.path)
    check(size >= w["room"], "%s: the file (%d bytes) holds the room the warning says was "
          "mapped (%d)" % (f.name, size, w["room"]), [w])
    return after, dropped, size


def check_seccomp_both_ends(sb, prog, how, warning_how):
    """Few rounds: everything fits in the room the shim mapped before the
    filter; then enough to outgrow that room: what did not fit is counted
    as dropped, exactly."""
    rounds, room = 10, None
    for run in ("fits", "overflows"):
        if run == "overflows":
            rounds = room // (4 * RECORD_MIN) + 100
        out = os.path.join(sb.dir, "trace-%s" % run)
        sb.out = out
        res, nums = seccomp_run(sb, prog, how, rounds)
        check_eq(nums.get("before"), len(BEFORE_FILTER), "calls before the filter, as printed")
        check_eq(nums.get("after"), 4 * rounds + 3, "calls under the filter, as printed")
        f = sb.trace(out).file(pid=res.pid)
        after, dropped, room = check_filtered_file(f, nums["before"], nums["after"], "send",
                                                   warning_how)
        if run == "fits":
            check_eq(dropped, 0, "records dropped in a short run under the filter")
            check_eq([c["fn"] for c in after[-3:]], ["close"] * 3,
                     "the closes of the three sockets, last", after[-3:])
        else:
            check(dropped > 0, "%d rounds (%d calls) under the filter, %d bytes of room: "
                  "records dropped" % (rounds, nums["after"], room), after[-3:])
        check_viewer_reads(out, draw=run == "fits")


def test_seccomp_prctl(sb):
    check_seccomp_both_ends(sb, rtest.rprog("seccomp_strict"), "prctl", "prctl")


def test_seccomp_libseccomp(sb):
    """libseccomp probes first (seccomp(2) with no program, for each flag;
    SECCOMP_GET_ACTION_AVAIL), then loads through syscall(SYS_seccomp)."""
    prog = rtest.rprog_optional("seccomp_strict_libseccomp",
                                "built only with libseccomp (Debian package libseccomp-dev)")
    check_seccomp_both_ends(sb, prog, "libseccomp", "seccomp")


def check_fork_run(sb, how, rounds, out, draw=True):
    """seccomp_strict fork|probe: returns (Result, numbers, the parent's
    file, the child's file)."""
    sb.out = out
    res, nums = seccomp_run(sb, rtest.rprog("seccomp_strict"), how, rounds)
    check("child status 0" in res.out, "the child exited 0: %r" % res.out)
    # Two closes, the sends, the recv calls of the answer (one, or two if
    # it came in pieces), the last close.
    check(rounds + 4 <= nums.get("after", 0) <= rounds + 5, "the child's calls (as printed): "
          "%s for %d rounds" % (nums.get("after"), rounds))
    trace = sb.trace(out)
    parent = trace.file(pid=res.pid)
    check_file_readable(parent)
    check_eq(len(parent.calls(fn="accept")), 1, "the parent's accept", parent.calls()[:10])
    kids = [f for f in trace.files if f.ppid == res.pid]
    check_eq(len(kids), 1, "trace files of the child (for fork: its socket calls were all "
             "made under its filter; the file must exist all the same, or the trace would "
             "not say that the child used the connection)", trace=trace)
    check_viewer_reads(out, draw)
    return res, nums, parent, kids[0]


def test_seccomp_in_forked_child(sb):
    """The child's first socket call comes after its filter: its trace
    file must have been made before (no openat under the filter)."""
    _, nums, parent, kid = check_fork_run(sb, "fork", 10, os.path.join(sb.dir, "trace-fits"))
    check_eq(seccomp_warnings(parent), [], "seccomp warnings in the parent (no filter there)")
    _, dropped, room = check_filtered_file(kid, 0, nums["after"], "close", "prctl")
    check_eq(dropped, 0, "the child's dropped records in a short run")
    rounds = room // RECORD_MIN + 100
    _, nums, _, kid = check_fork_run(sb, "fork", rounds, os.path.join(sb.dir, "trace-overflows"),
                                     draw=False)
    _, dropped, _ = check_filtered_file(kid, 0, nums["after"], "close", "prctl")
    check(dropped > 0, "the child's records dropped past its room (%d bytes, %d calls)"
          % (room, nums["after"]))


def test_seccomp_probe_only(sb):
    """A process that only asks about seccomp (as libseccomp does before
    loading, and systemd) installs no filter: no warning says it did, and
    the shim goes on as before (its fork child traced in full)."""
    res, nums, parent, kid = check_fork_run(sb, "probe", 10, sb.out)
    check(re.search(r"^probed: 0 -1 0$", res.out, re.M),
          "the probes' results (0, -1 EFAULT, 0): %r" % res.out)
    check_eq(seccomp_warnings(parent), [], "seccomp warnings after probes that installed no "
             "filter", seccomp_warnings(parent)[:3])
    check_file_readable(kid)
    check_eq((len(kid.calls()), kid.end.get("dropped")), (nums["after"], 0),
             "the child's calls, all traced")


# --- Node.js -----------------------------------------------------------------

NODE_SERVER = r"""
const http = require('http');
let reqs = 0;
const server = http.createServer({keepAlive: true}, (req, res) => {
  let n = 0;
  req.on('data', (c) => { n += c.length; });
  req.on('end', () => { reqs++; res.end('got ' + n + ' bytes\n'); });
});
// One client connection: when it ends, close the listener and leave.
server.on('connection', (sock) => sock.on('close', () => {
  server.close(() => console.log('served ' + reqs));
}));
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
"""

NODE_CLIENT = r"""
const http = require('http');
const port = +process.argv[1], count = +process.argv[2];
const agent = new http.Agent({keepAlive: true, maxSockets: 1});
let done = 0;
function one(i) {
  const body = Buffer.alloc(1000 * (i + 1), 'a');
  const req = http.request({host: '127.0.0.1', port, method: 'POST', path: '/' + i, agent,
                            headers: {'content-length': body.length}}, (res) => {
    let got = '';
    res.on('data', (c) => { got += c; });
    res.on('end', () => {
      process.stdout.write(got.trim() + ', socket reused: ' + req.reusedSocket + '\n');
      // The socket goes back to the agent's pool after this event.
      if (++done < count) setImmediate(one, done); else agent.destroy();
    });
  });
  req.end(body);
}
one(0);
"""

NODE_WATCH = r"""
const http = require('http'), fs = require('fs'), path = require('path');
const dir = process.argv[1];
const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  server.close(() => {
    // The listening socket's number is free now: inotify gets it.
    const w = fs.watch(dir, (ev, name) => {
      console.log('event ' + name);
      w.close();
    });
    fs.writeFileSync(path.join(dir, 'touched'), 'x');
    console.log('port ' + port);
  });
});
"""


def node_keepalive(sb, node, traced, count):
    server = sb.spawn([node, "-e", NODE_SERVER], traced=traced)
    port = sb.wait_listening(server)
    client = sb.run([node, "-e", NODE_CLIENT, port, count], traced=traced, check_rc=False)
    end = sb.finish(server, check_rc=False)
    return client, end, port, server


def test_node_http_keepalive(sb):
    node = need_program("node", "nodejs")
    count = 5
    want = "".join("got %d bytes, socket reused: %s\n" % (1000 * (i + 1),
                                                          "true" if i else "false")
                   for i in range(count))
    plain, plain_server, _, _ = node_keepalive(sb, node, False, count)
    check_eq((plain.returncode, plain.out), (0, want), "node's HTTP client without the shim")
    client, server_end, port, server = node_keepalive(sb, node, True, count)
    check_eq((client.returncode, client.out), (0, want), "node's HTTP client under the shim\n"
             + client.explain())
    check_eq(server_end.returncode, 0, "node's server\n" + server_end.explain())
    check_eq(server_end.out.splitlines()[-1], "served %d" % count, "the server's count")

    trace = sb.trace()
    trace.check_clean()
    events = check_viewer_reads(sb.out)
    addr = "127.0.0.1:%d" % port
    (c,) = rtest.check_pairing(events, addr, expect_conns=1)
    check(c.sent["client"] > sum(1000 * (i + 1) for i in range(count)),
          "bytes the client sent (5 requests, their bodies 15,000 bytes)", c.data[:4])
    # libuv closes with syscall(SYS_close): each end's close is traced.
    for side in ("client", "server"):
        closes = [e for e in c.closes if e.get("side") == side and e["fn"] == "close"]
        check_eq(len(closes), 1, "the %s's close of the connection" % side, c.closes)
    srv = trace.file(pid=server.pid)
    (lsock,) = srv.calls(fn="listen", ret=0)
    check(srv.fd_life(srv.calls(fn="socket", fd=lsock["fd"])[0], fn="close"),
          "the server's close of its listening socket (server.close())", srv.calls())
    check_no_phantoms(trace)


def test_node_listener_closed_then_inotify(sb):
    """server.close() then fs.watch: libuv closed the listener with
    syscall(SYS_close), inotify_init1 got its number, and the inotify
    reads were traced as reads of the socket on 127.0.0.1:PORT."""
    node = need_program("node", "nodejs")
    watched = os.path.join(sb.dir, "watched")
    os.mkdir(watched)
    plain = sb.run([node, "-e", NODE_WATCH, watched], traced=False, check_rc=False)
    check_eq(plain.returncode, 0, "node without the shim\n" + plain.explain())
    check("event touched" in plain.out, "fs.watch saw the file (without the shim): %r"
          % plain.out)
    os.unlink(os.path.join(watched, "touched"))
    res = sb.run([node, "-e", NODE_WATCH, watched], check_rc=False)
    check_eq(res.returncode, 0, "node under the shim\n" + res.explain())
    check("event touched" in res.out, "fs.watch saw the file under the shim: %r" % res.out)
    port = int(re.search(r"^port (\d+)$", res.out, re.M).group(1))

    trace = sb.trace()
    trace.check_clean()
    f = trace.file(pid=res.pid)
    (listen,) = f.calls(fn="listen", ret=0)
    life = f.fd_life(f.calls(fn="socket", fd=listen["fd"])[0])
    check(life[-1]["fn"] == "close", "the listening socket's close is traced", life)
    later = [c for c in f.calls() if c.get("local") == "127.0.0.1:%d" % port
             and c["ts"] > life[-1]["ts"]]
    check(not later, "calls traced on 127.0.0.1:%d after the listener's close (the inotify "
          "descriptor that got its number)" % port, later[:6])
    check_no_phantoms(trace)
    check_viewer_reads(sb.out)


# --- raw syscall() -----------------------------------------------------------

# Raw calls traced only on a socket (as their libc forms are).
SOCKET_ONLY = ("close", "shutdown", "read", "write", "readv", "writev", "dup", "dup3", "fcntl")


def test_raw_syscalls(sb):
    prog = rtest.rprog("raw_syscalls")
    sock, closed = sttest.closed_port()
    with sock:
        plain = sb.run([prog, closed], traced=False)
        res = sb.run([prog, closed])
    check_eq(res.out, plain.out, "raw_syscalls' output with and without the "
             "shim (the descriptor numbers too)")
    lines = res.out.splitlines()
    calls = [line.split() for line in lines if line.startswith("call ")]
    facts = dict(re.findall(r"^(sent client|sent server|received client|received server) "
                            r"(\d+)$", res.out, re.M))
    inotify = [tuple(map(int, m)) for m in
               re.findall(r"^inotify (\d+) was-socket (\d+)$", res.out, re.M)]
    check_eq(len(inotify), 2, "the two inotify lines")
    check(all(a == b for a, b in inotify), "inotify got the closed sockets' numbers: %s"
          % inotify)

    trace = sb.trace()
    f = trace.file(pid=res.pid)
    check_file_readable(f)
    recs = f.calls()
    raw = [r for r in recs if r.get("via") == "syscall"]
    # Each raw call the program made, in order, as the call itself.
    expected = []
    for _, name, fd, ret, err in calls:
        fd, ret = int(fd), int(ret)
        if name == "close_range":
            continue  # close_range is not a traced call (it only forgets)
        if name == "close" and err == "EBADF":
            continue  # not a socket any more: not traced, as a libc close would not be
        expected.append((name, fd, ret, None if err == "-" else err))
    got = [(r["fn"], r["ret"] if r["fn"] == "socket" else r.get("fd"), r.get("ret"),
            r.get("errno")) for r in raw if r["fn"] != "close_range"]
    want = [(n, fd if n != "socket" else ret, ret, e) for n, fd, ret, e in expected]
    check_eq(got, want, "the raw calls in the trace (fn, fd, ret, errno), with "
             "\"via\":\"syscall\"", raw[:6] or recs[:6])
    cr = [r for r in raw if r["fn"] == "close_range"]
    check(all(r.get("ret") == 0 for r in cr), "close_range, if traced, as the program saw it",
          cr)

    # Bytes: the data records of each end add up to what each end moved.
    by_fd = {}
    for r in raw:
        if r["fn"] in SEND_FNS + RECV_FNS and isinstance(r.get("ret"), int) and r["ret"] >= 0:
            by_fd.setdefault((r["fd"], r["fn"] in SEND_FNS), 0)
            by_fd[(r["fd"], r["fn"] in SEND_FNS)] += r.get("bytes", 0)
    cfd = int(next(c for c in calls if c[1] == "connect" and c[3] == "0")[2])
    afd = int(next(c for c in calls if c[1] == "accept4")[3])
    check_eq((by_fd.get((cfd, True)), by_fd.get((afd, False)),
              by_fd.get((afd, True)), by_fd.get((cfd, False))),
             (int(facts["sent client"]), int(facts["received server"]),
              int(facts["sent server"]), int(facts["received client"])),
             "bytes in the trace: client sent, server received, server sent, client received")
    # The failing connect: its errno as the program saw it.
    (refused,) = [r for r in raw if r["fn"] == "connect" and r.get("ret") == -1]
    check_eq((refused.get("errno"), refused.get("addr")),
             ("ECONNREFUSED", "127.0.0.1:%d" % closed), "the refused raw connect", [refused])
    # The sockets' endpoints are known for the raw calls too.
    first_send = next(r for r in raw if r["fn"] == "sendto" and r.get("fd") == cfd)
    check(first_send.get("peer") and first_send.get("local"),
          "the raw sendto's endpoints", [first_send])
    # The inotify descriptors are not sockets: their close() is not a
    # socket close, and nothing else is traced on those numbers.
    check_no_phantoms(trace)
    for ifd, _ in inotify:
        libc_closes = [r for r in recs if r["fn"] == "close" and r.get("fd") == ifd
                       and r.get("via") is None]
        check(not libc_closes, "the close() of the inotify descriptor %d traced as the close "
              "of the socket that had its number before" % ifd, libc_closes)
    sttest.sequence(f, [{"fn": "socket", "via": sttest.ABSENT},
                        {"fn": "connect", "via": sttest.ABSENT, "ret": 0}],
                    "the libc socket and connect")


if __name__ == "__main__":
    rtest.main()
