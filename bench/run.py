#!/usr/bin/env python3
"""socktrace benchmark runner (python3 standard library only).

Usage: python3 bench/run.py [BUILD_DIR] [--rounds R] [--quick] [--markdown]
                            [--only WORKLOAD[,WORKLOAD...]] [--scale F]

Runs every workload of bench/ (built in BUILD_DIR/bench/) in several modes:
untraced, under the shim with tracing off and one fault rule that never
matches, under the shim with full tracing, with full tracing and stack
capture of 8 and of 32 frames (when the shim supports it), under strace and
under strace -k (stack traces, when strace supports it), and as its LTTng-UST
variant (every call a tracepoint, recorded by a session daemon of the
runner's own: the anchor "LTTng-UST per-event cost"; when lttng-ust was
found at build time and lttng-tools can trace here). Modes alternate within
each round (round-robin, the starting mode rotating from round to round) so
that slow drifts of a noisy machine hit every mode alike. Each whole run is
timed with time.perf_counter; the table shows medians normalised per loop
iteration. Nothing here ever fails on timing: the targets are printed next
to the results, never asserted. The exit status is non-zero only when a
workload itself fails (or the build is missing).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

# --------------------------------------------------------------------------
# Workloads. n: iterations in a full run, chosen so that an untraced run takes
# about 0.5 s on the reference machine (2-core AMD EPYC VM); strace_n: the
# same for strace, about 100x slower on the cheapest calls, so that a traced
# run takes about 1 s (also used by the other slow modes: stacks of 32
# frames and strace -k). quick_div divides both for --quick.

THREADS = 4


class Workload:
    def __init__(self, name, n, strace_n, what, extra_args=(), iter_mult=1, exe=None,
                 lttng_exe=None):
        self.name = name
        self.exe = exe or name
        # the LTTng-UST variant (bench/lttng_calls.h), or None
        self.lttng_exe = lttng_exe
        self.n = n
        self.strace_n = strace_n
        self.what = what
        self.extra_args = list(extra_args)
        # iterations per unit of N (threads: N per thread, T threads)
        self.iter_mult = iter_mult

    def argv(self, exe, n):
        return [exe, str(n)] + self.extra_args

    def iterations(self, n):
        return n * self.iter_mult


WORKLOADS = [
    Workload('sp_loop', 300000, 5000,
             'socketpair, send 64 + recv 64 per iteration',
             lttng_exe='sp_loop_lttng'),
    Workload('rw_loop', 300000, 5000,
             'socketpair, write 64 + read 64 per iteration (the shim makes them '
             'as send and recv)', extra_args=['rw'], exe='sp_loop',
             lttng_exe='sp_loop_lttng'),
    Workload('tcp_pingpong', 40000, 5000,
             'TCP loopback, 64-byte request/response per iteration, 2 processes '
             'pinned to one CPU'),
    Workload('conn_churn', 10000, 3000,
             'TCP loopback, one connection per iteration (socket, connect, '
             'accept, send 1, recv, close)'),
    Workload('threads', 120000, 4000,
             '%d threads, own socketpair each, send 64 + recv 64 per iteration '
             '(iterations = N x %d)' % (THREADS, THREADS),
             extra_args=[str(THREADS)], iter_mult=THREADS,
             lttng_exe='threads_lttng'),
]
QUICK_DIV = 10

MODE_UNTRACED = 'untraced'
MODE_OFF = 'shim, tracing off, 1 rule never matching'
MODE_FULL = 'full tracing'
MODE_STACKS = 'tracing + stacks depth 8'
MODE_STACKS32 = 'tracing + stacks depth 32'
MODE_STRACE = 'strace -f -e trace=network'
MODE_STRACE_K = 'strace -k -f -e trace=network'
MODE_LTTNG = 'LTTng-UST, tracepoint per call'

# Frames per stack of the stack modes.
STACK_DEPTH = {MODE_STACKS: 8, MODE_STACKS32: 32}
# Modes run with the workload's smaller strace_n.
SLOW_MODES = (MODE_STACKS32, MODE_STRACE, MODE_STRACE_K)

NEVER_MATCHING_RULE = 'connect port=1 error=ECONNREFUSED'

# Shown next to the results, never asserted.
TARGETS = {
    ('sp_loop', MODE_FULL): 1.25,
    ('threads', MODE_FULL): 1.3,
    ('*', MODE_OFF): 1.02,
}
# Full tracing's added cost per event over LTTng-UST's, start-up excluded
# (the anchor "LTTng-UST per-event cost"); shown, never asserted.
LTTNG_RATIO_TARGETS = {'sp_loop': 1.0 / 3}


def target_for(workload, mode):
    return TARGETS.get((workload, mode), TARGETS.get(('*', mode)))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Environment and detection

def clean_env():
    """The caller's environment without any preload or socktrace setting."""
    env = {k: v for k, v in os.environ.items()
           if k != 'LD_PRELOAD' and not k.startswith('SOCKTRACE_')}
    return env


def shim_has_stacks(shim):
    """True when the shim knows SOCKTRACE_BACKTRACE (checked with strings(1),
    or by searching the file's bytes when binutils is not installed)."""
    strings = shutil.which('strings')
    if strings:
        try:
            out = subprocess.run([strings, shim], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, check=True).stdout
            return b'SOCKTRACE_BACKTRACE' in out
        except (OSError, subprocess.CalledProcessError):
            pass
    with open(shim, 'rb') as f:
        return b'SOCKTRACE_BACKTRACE' in f.read()


def strace_status():
    """(path, None) when strace can trace here, else (None, reason)."""
    path = shutil.which('strace')
    if not path:
        return None, 'n/a (strace not installed)'
    try:
        p = subprocess.run([path, '-f', '-qq', '-e', 'trace=network', '-o',
                            os.devnull, 'true'], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, 'n/a (strace does not run: %s)' % e
    if p.returncode != 0:
        why = p.stderr.decode(errors='replace').strip().splitlines()
        return None, 'n/a (strace cannot trace here: %s)' % (why[-1] if why else
                                                             'exit %d' % p.returncode)
    return path, None


def strace_k_status(strace, strace_reason):
    """None when strace -k (a stack trace with every call) works here, else
    why not: `strace -k -e trace=none true` fails when strace was built
    without libunwind/libdw."""
    if not strace:
        return strace_reason
    try:
        p = subprocess.run([strace, '-k', '-e', 'trace=none', 'true'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 'n/a (strace built without -k)'
    if p.returncode != 0:
        return 'n/a (strace built without -k)'
    return None


def machine_description(shim):
    cpu = 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    try:
        glibc = os.confstr('CS_GNU_LIBC_VERSION')
    except (ValueError, OSError):
        glibc = ' '.join(platform.libc_ver())
    try:
        load = '%.2f %.2f %.2f' % os.getloadavg()
    except OSError:
        load = 'unknown'
    return [
        ('CPU', cpu),
        ('cores', '%s online, %s usable' % (os.cpu_count(), usable)),
        ('kernel', platform.release()),
        ('glibc', glibc or 'unknown'),
        ('date', datetime.datetime.now().astimezone().isoformat(timespec='seconds')),
        ('load average at start', load),
        ('shim', shim),
    ]


# --------------------------------------------------------------------------
# Running

class RunFailed(Exception):
    pass


def run_timed(argv, env, errfile):
    """Run argv once; return wall seconds. Raises RunFailed on failure."""
    errfile.seek(0)
    errfile.truncate()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                         stdout=errfile, stderr=errfile)
    rc = p.wait()
    t1 = time.perf_counter()
    errfile.seek(0)
    out = errfile.read().decode(errors='replace').strip()
    if rc != 0:
        raise RunFailed('exit status %d%s' % (rc, (': ' + out[-2000:]) if out else ''))
    if out:
        # Workloads print nothing on success; the shim prints only when
        # something is wrong. Either way the measurement is suspect.
        raise RunFailed('unexpected output: ' + out[-2000:])
    return t1 - t0


def call_names():
    """The calls in the order of preload/core/calls.def: a binary record's
    "fn" is an index into it."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'preload', 'core',
                        'calls.def')
    with open(path) as f:
        return re.findall(r'^ST_CALL\((\w+),', f.read(), re.M)


def varint(data, pos):
    v = shift = 0
    while True:
        b = data[pos]
        pos += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return v, pos


def scan_binary(data, names):
    """(calls, frame lengths of send records, dropped) of a binary trace
    (docs/trace-format.md): frames walked, without checking each one (a
    trace the benchmark just wrote whole)."""
    calls, send_lens, dropped = 0, [], 0
    pos = 24  # the prologue
    while pos < len(data):
        if data[pos] != 0xA5:
            pos += 1  # NUL padding
            continue
        length, body = varint(data, pos + 1)
        end = body + length + 2
        kind = data[body]
        if kind == 2:  # a call: ts, dur, pid, tid, then fn (tag 5 << 3)
            calls += 1
            q = body + 1
            for _ in range(4):
                _, q = varint(data, q + 1)
            if data[q] == 5 << 3:
                fn, _ = varint(data, q + 1)
                if fn < len(names) and names[fn] == 'send':
                    send_lens.append(end - pos)
        elif kind == 1 and data[body + 1:body + 14] == b'{"rec":"end",':
            try:
                dropped += int(json.loads(data[body + 1:body + length]).get('dropped', 0))
            except ValueError:
                pass
        pos = end
    return calls, send_lens, dropped


def scan_trace(tracedir):
    """Count "call" records in every file of tracedir; also return the
    record lengths (JSON Lines: newline included; binary: the frame) of
    "send" records, and the records the shim says it dropped."""
    calls = 0
    send_lens = []
    dropped = 0
    files = 0
    names = None
    for name in os.listdir(tracedir):
        path = os.path.join(tracedir, name)
        if not os.path.isfile(path):
            continue
        files += 1
        with open(path, 'rb') as f:
            data = f.read()
        if data.startswith(b'\x89socktr\n'):
            names = names or call_names()
            c, lens, d = scan_binary(data, names)
            calls += c
            send_lens += lens
            dropped += d
            continue
        for line in data.split(b'\n'):
            line = line.lstrip(b'\0')
            if not line.strip():
                continue
            # Field order is fixed by docs/trace-format.md: rec first.
            if line.startswith(b'{"rec":"call"'):
                calls += 1
                if b'"fn":"send",' in line:
                    send_lens.append(len(line) + 1)
            elif line.startswith(b'{"rec":"end"'):
                try:
                    dropped += int(json.loads(line).get('dropped', 0))
                except ValueError:
                    pass
    return files, calls, send_lens, dropped

# --------------------------------------------------------------------------
# LTTng-UST: the workloads' LTTng variants (BUILD/bench/*_lttng, every socket
# call a tracepoint of bench/lttng_tp.h) run in a recording session of a
# session daemon the runner starts for itself, with LTTNG_HOME a fresh
# temporary directory, and kills at the end. Each timed run gets a session
# of its own (created, started before and stopped, checked and destroyed
# after the timed region) writing to a fresh directory, deleted after it.

# Per CPU: 8 sub-buffers of 1 MiB, about 150,000 events of ~56 bytes. A run
# of sp_loop writes ~34 MB, drained while it runs by the consumer daemon:
# nothing is discarded on the reference machine, and every run checks it.
# (4 MiB x 16 per CPU measured slower: the first pass through fresh
# shared memory costs page faults.)
LTTNG_CHANNEL = 'ch'
LTTNG_CHANNEL_OPTS = ['--subbuf-size=1M', '--num-subbuf=8']
LTTNG_EVENTS = 'socktrace_bench:*'
# socktrace records the pid and the tid with every call: so does LTTng here.
LTTNG_CONTEXTS = ['-t', 'vpid', '-t', 'vtid']
# A recorded call takes 54 bytes or more (4-byte compact header, 8 of
# vpid and vtid, 42 of fields); the packets' contents minus a generous header allowance must hold
# at least this many bytes per event the run was expected to record, or the
# program never registered with the daemon (it then runs untraced).
LTTNG_MIN_EVENT_BYTES = 32
LTTNG_PACKET_HEADER = 128
LTTNG_TIMEOUT = 120


class LttngError(Exception):
    pass


def proc_environ(pid):
    """The environment of process pid as a dict, or None (gone, a zombie,
    another user's)."""
    try:
        with open('/proc/%d/environ' % pid, 'rb') as f:
            raw = f.read()
    except OSError:
        return None
    env = {}
    for item in raw.split(b'\0'):
        k, sep, v = item.partition(b'=')
        if sep:
            env[k.decode(errors='replace')] = v.decode(errors='replace')
    return env


def proc_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(')', 1)[-1].split()[0] != 'Z'


def proc_comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return ''


def stream_stats(tracedir):
    """(event bytes, packets, discarded) of an LTTng trace directory, from
    the packet indexes (CTF index files, index/*.idx): the content of every
    packet minus LTTNG_PACKET_HEADER, and the largest discarded-events count
    of each stream (a running total in every packet)."""
    event_bytes = packets = discarded = 0
    for dirpath, _dirs, files in os.walk(tracedir):
        if os.path.basename(dirpath) != 'index':
            continue
        for name in files:
            if not name.endswith('.idx'):
                continue
            with open(os.path.join(dirpath, name), 'rb') as f:
                data = f.read()
            if len(data) < 16:
                continue
            magic, _major, _minor, entry_len = (int.from_bytes(data[i:i + 4], 'big')
                                                for i in range(0, 16, 4))
            if magic != 0xC1F1DCC1 or entry_len < 48:
                raise LttngError('%s: not a CTF packet index' % name)
            stream_discarded = 0
            for off in range(16, len(data) - entry_len + 1, entry_len):
                field = [int.from_bytes(data[off + i:off + i + 8], 'big')
                         for i in range(0, 48, 8)]
                content_bytes = field[2] // 8
                event_bytes += max(0, content_bytes - LTTNG_PACKET_HEADER)
                packets += 1
                stream_discarded = max(stream_discarded, field[5])
            discarded += stream_discarded
    return event_bytes, packets, discarded


class Lttng:
    """An LTTng session daemon of the runner's own and one recording session
    per timed run."""

    def __init__(self, tmproot, base_env):
        self.tmproot = tmproot
        self.base_env = {k: v for k, v in base_env.items()
                         if not k.startswith('LTTNG_')}
        self.lttng = shutil.which('lttng')
        self.sessiond = shutil.which('lttng-sessiond')
        self.home = None       # LTTNG_HOME of the daemon and the programs
        self.pid = None        # the daemon the runner started
        self.shared = None     # pid of a root session daemon found running
        self.count = 0
        self.version = None

    # -- the daemon

    def env(self, base=None):
        env = dict(self.base_env if base is None else base)
        env = {k: v for k, v in env.items() if not k.startswith('LTTNG_')}
        env['LTTNG_HOME'] = self.home
        return env

    def ours(self):
        """Processes carrying our LTTNG_HOME: the daemon, its run-as helper
        and its consumer daemons (and any program of ours still running)."""
        found = []
        if not self.home:
            return found
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            env = proc_environ(int(entry))
            if env and env.get('LTTNG_HOME') == self.home:
                found.append(int(entry))
        return found

    def start(self):
        """Start the daemon; raises LttngError with the reason it cannot."""
        if not self.lttng or not self.sessiond:
            raise LttngError('lttng-tools not installed: no %s in PATH'
                             % ', '.join(x for x, p in (('lttng', self.lttng),
                                                        ('lttng-sessiond', self.sessiond))
                                         if not p))
        try:
            out = subprocess.run([self.lttng, '--version'], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, timeout=30).stdout
            m = re.search(r'\b(\d+\.\d+(?:\.\d+)?)\b', out.decode(errors='replace'))
            self.version = 'lttng-tools %s' % (m.group(1) if m else 'unknown')
            pkg_config = shutil.which('pkg-config')
            if pkg_config:
                out = subprocess.run([pkg_config, '--modversion', 'lttng-ust'],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     timeout=30).stdout.decode(errors='replace').strip()
                if out:
                    self.version += ', lttng-ust %s' % out
        except (OSError, subprocess.TimeoutExpired):
            pass
        # Sockets live in LTTNG_HOME (a non-root daemon): keep the path short,
        # in the system's temporary directory whatever --tmpdir says.
        self.home = tempfile.mkdtemp(prefix='socktrace-bench-lttng-')
        load = os.path.join(self.home, 'no-sessions')
        os.mkdir(load)
        with tempfile.TemporaryFile(prefix='socktrace-bench-lttng-') as out:
            try:
                # --load of an empty directory: no session configuration of
                # this machine's (/etc/lttng/sessions/auto) is loaded.
                rc = subprocess.run([self.sessiond, '--daemonize', '--no-kernel',
                                     '--load=' + load],
                                    env=self.env(), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=out,
                                    timeout=LTTNG_TIMEOUT).returncode
            except (OSError, subprocess.TimeoutExpired) as e:
                self.close()
                raise LttngError('lttng-sessiond does not start: %s' % e)
            out.seek(0)
            msg = out.read().decode(errors='replace').strip().splitlines()
        if rc != 0:
            why = msg[-1] if msg else 'exit status %d' % rc
            if os.geteuid() == 0 and 'already running' in why:
                # A root daemon is system-wide (its sockets in
                # /var/run/lttng): one already runs, started by the system or
                # by someone else. Use it, with sessions of unique names, and
                # leave it running.
                self.shared = self.root_daemon_pid() or 0
                self.ctl('list')   # it answers, or LttngError
                return
            self.close()
            raise LttngError('lttng-sessiond does not start: %s' % why)
        daemons = [p for p in self.ours() if proc_comm(p) == 'lttng-sessiond']
        parents = set(daemons)
        main = [p for p in daemons if self.ppid(p) not in parents]
        if not main:
            self.close()
            raise LttngError('lttng-sessiond started but is not running')
        self.pid = main[0]

    @staticmethod
    def ppid(pid):
        try:
            with open('/proc/%d/stat' % pid) as f:
                return int(f.read().rsplit(')', 1)[-1].split()[1])
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def root_daemon_pid():
        try:
            with open('/var/run/lttng/lttng-sessiond.pid') as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def close(self):
        """Kill the daemon the runner started (and whatever else carries its
        LTTNG_HOME), delete LTTNG_HOME. A shared root daemon is left alone."""
        if self.pid:
            self.signal_and_wait([self.pid], signal.SIGTERM, 20)
            self.pid = None
        left = self.ours()
        if left:
            self.signal_and_wait(left, signal.SIGTERM, 5)
            left = self.ours()
            if left:
                self.signal_and_wait(left, signal.SIGKILL, 5)
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    @staticmethod
    def signal_and_wait(pids, sig, timeout):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(proc_alive(p) for p in pids):
            time.sleep(0.05)

    # -- sessions

    def ctl(self, *args):
        """lttng --no-sessiond ARGS (never spawning a daemon of its own);
        returns its stdout, raises LttngError when it fails."""
        try:
            p = subprocess.run([self.lttng, '--no-sessiond'] + list(args),
                               env=self.env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=LTTNG_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise LttngError('lttng %s: %s' % (args[0], e))
        if p.returncode != 0:
            why = (p.stderr or p.stdout).decode(errors='replace').strip().splitlines()
            raise LttngError('lttng %s: %s' % (args[0], why[-1] if why else
                                               'exit status %d' % p.returncode))
        return p.stdout.decode(errors='replace')

    def channel_counters(self, session):
        """(discarded events, lost packets) of the session's channel, from
        `lttng --mi xml list SESSION`."""
        out = self.ctl('--mi', 'xml', 'list', session)
        try:
            root = ET.fromstring(out)
        except ET.ParseError as e:
            raise LttngError('lttng list: unreadable machine interface output: %s' % e)
        counts = {}
        for el in root.iter():
            tag = el.tag.rsplit('}', 1)[-1]
            if tag in ('discarded_events', 'lost_packets'):
                counts[tag] = counts.get(tag, 0) + int((el.text or '0').strip())
        if 'discarded_events' not in counts:
            raise LttngError('lttng list %s: no discarded_events count' % session)
        return counts['discarded_events'], counts.get('lost_packets', 0)

    def run(self, argv, env, errfile, expected_events):
        """One timed run of argv in a fresh session; returns seconds. Raises
        RunFailed when the run fails, when LTTng discarded or lost anything,
        or when the trace holds too few bytes for expected_events."""
        self.count += 1
        session = 'socktrace-bench-%d-%d' % (os.getpid(), self.count)
        outdir = tempfile.mkdtemp(prefix='socktrace-bench-lttng-trace-', dir=self.tmproot)
        tracedir = os.path.join(outdir, 'trace')
        created = False
        try:
            try:
                self.ctl('create', session, '--output=' + tracedir)
                created = True
                self.ctl('enable-channel', '-u', '-s', session,
                         *(LTTNG_CHANNEL_OPTS + [LTTNG_CHANNEL]))
                self.ctl('enable-event', '-u', '-s', session, '-c', LTTNG_CHANNEL,
                         LTTNG_EVENTS)
                self.ctl('add-context', '-u', '-s', session, '-c', LTTNG_CHANNEL,
                         *LTTNG_CONTEXTS)
                self.ctl('start', session)
            except LttngError as e:
                raise RunFailed(str(e))
            secs = run_timed(argv, env, errfile)
            try:
                self.ctl('stop', session)    # waits for the data to be written
                discarded, lost = self.channel_counters(session)
                self.ctl('destroy', session)
                created = False
                event_bytes, packets, idx_discarded = stream_stats(tracedir)
            except (LttngError, OSError) as e:
                raise RunFailed(str(e))
            if discarded or lost or idx_discarded:
                raise RunFailed('LTTng discarded %d events and lost %d packets '
                                '(sub-buffers: %s): the run measured less than '
                                'every event' % (max(discarded, idx_discarded), lost,
                                                 ' '.join(LTTNG_CHANNEL_OPTS)))
            need = max(1, int(expected_events)) * LTTNG_MIN_EVENT_BYTES
            if event_bytes < need:
                raise RunFailed('LTTng recorded %d bytes of events in %d packets, '
                                'expected %d events (at least %d bytes): the '
                                'program did not register with the session daemon?'
                                % (event_bytes, packets, expected_events, need))
            return secs
        finally:
            if created:
                try:
                    self.ctl('destroy', session)
                except LttngError:
                    pass
            shutil.rmtree(outdir, ignore_errors=True)


class Mode:
    def __init__(self, name, unavailable=None):
        self.name = name
        self.unavailable = unavailable    # reason string, or None


# Modes run once more per round with N=1 where the LTTng mode runs: their
# process start-up, subtracted from their runs for the per-event costs of
# the LTTng-UST comparison (LTTng's start-up, ~12 ms, weighs on a short run).
STARTUP_MODES = (MODE_UNTRACED, MODE_FULL, MODE_LTTNG)


class Runner:
    def __init__(self, args, workloads):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.shim = os.path.join(self.build, 'preload', 'libsocktrace.so')
        self.base_env = clean_env()
        self.tmproot = args.tmpdir or tempfile.gettempdir()
        self.errfile = tempfile.TemporaryFile(prefix='socktrace-bench-err-')
        self.lttng = Lttng(self.tmproot, self.base_env)
        self.cache_path = os.path.join(self.build, 'bench', 'event-counts.json')
        self.failed = False
        self.strace, strace_reason = strace_status()
        stacks = shim_has_stacks(self.shim)
        strace_k_reason = strace_k_status(self.strace, strace_reason)
        # Last: it may start the LTTng session daemon (Runner.close kills it).
        lttng_reason = self.lttng_status(workloads)
        self.modes = [
            Mode(MODE_UNTRACED),
            Mode(MODE_OFF),
            Mode(MODE_FULL),
            Mode(MODE_LTTNG, lttng_reason),
            Mode(MODE_STACKS, None if stacks else 'n/a (stacks not built)'),
            Mode(MODE_STACKS32, None if stacks else 'n/a (stacks not built)'),
            Mode(MODE_STRACE, strace_reason),
            Mode(MODE_STRACE_K, strace_k_reason),
        ]

    def lttng_status(self, workloads):
        """None when the LTTng mode can run (the daemon started and a probe
        run recorded events), else why not ("n/a (...)")."""
        with_variant = [w for w in workloads if w.lttng_exe]
        if not with_variant:
            return 'n/a (no LTTng variant of this workload)'
        probe = os.path.join(self.build, 'bench', with_variant[0].lttng_exe)
        if not os.path.exists(probe):
            return ('n/a (LTTng variants not built: meson found no lttng-ust, '
                    'Debian package liblttng-ust-dev)')
        try:
            try:
                self.lttng.start()
            except LttngError as e:
                self.lttng.close()
                return 'n/a (%s)' % e
            try:
                self.lttng.run([probe, '1'], self.lttng.env(self.base_env),
                               self.errfile, 1)
            except RunFailed as e:
                self.lttng.close()
                return 'n/a (LTTng cannot trace here: %s)' % str(e).splitlines()[0][:200]
        except BaseException:
            self.lttng.close()
            raise
        return None

    def close(self):
        self.lttng.close()
        self.errfile.close()

    def mode_unavailable(self, mode, wl):
        """Why mode cannot run wl (a string), or None."""
        if mode.unavailable is not None:
            return mode.unavailable
        if mode.name == MODE_LTTNG:
            if not wl.lttng_exe:
                return 'n/a (no LTTng variant of this workload)'
            if not os.path.exists(os.path.join(self.build, 'bench', wl.lttng_exe)):
                return 'n/a (%s not built)' % wl.lttng_exe
        return None

    # -- commands per mode

    def env_for(self, mode, tracedir):
        env = dict(self.base_env)
        if mode == MODE_OFF:
            env['LD_PRELOAD'] = self.shim
            env['SOCKTRACE_OUT'] = 'off'
            env['SOCKTRACE_FAULTS'] = NEVER_MATCHING_RULE
        elif mode == MODE_FULL or mode in STACK_DEPTH:
            env['LD_PRELOAD'] = self.shim
            env['SOCKTRACE_OUT'] = tracedir
            if mode in STACK_DEPTH:
                env['SOCKTRACE_BACKTRACE'] = str(STACK_DEPTH[mode])
        elif mode == MODE_LTTNG:
            env = self.lttng.env(env)
        return env

    def argv_for(self, mode, wl, n):
        exe = wl.lttng_exe if mode == MODE_LTTNG else wl.exe
        argv = wl.argv(os.path.join(self.build, 'bench', exe), n)
        if mode == MODE_STRACE:
            argv = [self.strace, '-f', '-qq', '-e', 'trace=network',
                    '-o', os.devnull] + argv
        elif mode == MODE_STRACE_K:
            argv = [self.strace, '-k', '-f', '-qq', '-e', 'trace=network',
                    '-o', os.devnull] + argv
        return argv

    def n_for(self, mode, wl):
        n = wl.strace_n if mode in SLOW_MODES else wl.n
        if self.args.quick:
            n = n // QUICK_DIV
        return max(1, int(n * self.args.scale))

    def run_mode(self, mode, wl, n=None, events_per_iter=None):
        """One timed run (of N n, by default the mode's); returns seconds.
        The trace directory of a tracing mode is made before and deleted
        after the timed region; so is the recording session of LTTng."""
        if n is None:
            n = self.n_for(mode, wl)
        if mode == MODE_LTTNG:
            expected = (events_per_iter or 1) * wl.iterations(n)
            return self.lttng.run(self.argv_for(mode, wl, n),
                                  self.env_for(mode, None), self.errfile, expected)
        tracedir = None
        if mode == MODE_FULL or mode in STACK_DEPTH:
            tracedir = tempfile.mkdtemp(prefix='socktrace-bench-', dir=self.tmproot)
        try:
            secs = run_timed(self.argv_for(mode, wl, n),
                             self.env_for(mode, tracedir), self.errfile)
            if tracedir is not None and not os.listdir(tracedir):
                raise RunFailed('full tracing wrote no trace file in %s' % tracedir)
            return secs
        finally:
            if tracedir is not None:
                shutil.rmtree(tracedir, ignore_errors=True)

    # -- event counts (one traced run per workload, cached)

    def identity(self, path):
        st = os.stat(path)
        return [st.st_size, st.st_mtime_ns]

    def count_events(self, wl):
        """Events ("call" records) of one run at the full-tracing N, counted
        once and cached in BUILD/bench/event-counts.json, keyed by the
        workload's arguments and the identity of the shim and the program."""
        n = self.n_for(MODE_FULL, wl)
        exe = os.path.join(self.build, 'bench', wl.exe)
        key = ' '.join([wl.name, str(n)] + wl.extra_args)
        ident = {'shim': self.identity(self.shim), 'exe': self.identity(exe)}
        cache = {}
        try:
            with open(self.cache_path) as f:
                cache = json.load(f)
        except (OSError, ValueError):
            cache = {}
        hit = cache.get(key)
        if hit and hit.get('identity') == ident and not self.args.recount:
            return hit['events'], hit.get('send_bytes')

        log('  counting events of %s (one run under full tracing)' % wl.name)
        tracedir = tempfile.mkdtemp(prefix='socktrace-bench-count-', dir=self.tmproot)
        try:
            run_timed(self.argv_for(MODE_FULL, wl, n),
                      self.env_for(MODE_FULL, tracedir), self.errfile)
            files, calls, send_lens, dropped = scan_trace(tracedir)
        finally:
            shutil.rmtree(tracedir, ignore_errors=True)
        if files == 0 or calls == 0:
            raise RunFailed('full tracing recorded no events')
        if dropped:
            log('  warning: the shim dropped %d records' % dropped)
        send_bytes = (sum(send_lens) / len(send_lens)) if send_lens else None
        cache[key] = {'identity': ident, 'events': calls, 'send_bytes': send_bytes}
        try:
            tmp = self.cache_path + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(cache, f, indent=1, sort_keys=True)
            os.replace(tmp, self.cache_path)
        except OSError as e:
            log('  warning: cannot write %s: %s' % (self.cache_path, e))
        return calls, send_bytes

    # -- one workload

    def bench(self, wl):
        log('%s:' % wl.name)
        res = {'workload': wl, 'modes': {}, 'events': None, 'send_bytes': None,
               'events_per_iter': None, 'startup': {}}
        try:
            res['events'], res['send_bytes'] = self.count_events(wl)
            res['events_per_iter'] = (res['events']
                                      / wl.iterations(self.n_for(MODE_FULL, wl)))
        except RunFailed as e:
            log('  FAILED counting events: %s' % e)
            self.failed = True

        active = [m.name for m in self.modes if self.mode_unavailable(m, wl) is None]
        # (mode, N): every available mode at its N, and where LTTng runs the
        # start-up runs (N=1) of STARTUP_MODES.
        tasks = [(m, None) for m in active]
        if MODE_LTTNG in active:
            tasks += [(m, 1) for m in STARTUP_MODES if m in active]
        times = {t: [] for t in tasks}
        errors = {}
        # Warm-up: page cache, CPU frequency, the loader's caches.
        try:
            run_timed(self.argv_for(MODE_UNTRACED, wl, self.n_for(MODE_UNTRACED, wl)),
                      self.env_for(MODE_UNTRACED, None), self.errfile)
        except RunFailed as e:
            errors[MODE_UNTRACED] = str(e)

        rounds = self.args.rounds
        for r in range(rounds):
            log('  round %d/%d' % (r + 1, rounds))
            # Round-robin, starting one mode later in each round.
            k = r % len(tasks)
            for t in tasks[k:] + tasks[:k]:
                if t in errors:
                    continue
                try:
                    times[t].append(self.run_mode(t[0], wl, t[1],
                                                  res['events_per_iter']))
                except RunFailed as e:
                    errors[t] = str(e)
                    log('  FAILED %s%s: %s' % (t[0], '' if t[1] is None else
                                               ' (start-up run, N=%d)' % t[1], e))
                    self.failed = True
        for t in tasks:
            if t[1] is not None and t not in errors and times[t]:
                res['startup'][t[0]] = statistics.median(times[t])
        for m in self.modes:
            why = self.mode_unavailable(m, wl)
            if why is not None:
                res['modes'][m.name] = {'unavailable': why}
            elif (m.name, None) in errors:
                res['modes'][m.name] = {'error': errors[(m.name, None)]}
            else:
                n = self.n_for(m.name, wl)
                secs = times[(m.name, None)]
                per_iter = [t / wl.iterations(n) * 1e9 for t in secs]
                med = statistics.median(per_iter)
                mad = statistics.median([abs(x - med) for x in per_iter])
                res['modes'][m.name] = {'n': n, 'runs': len(per_iter),
                                        'median': med, 'mad': mad,
                                        'median_s': statistics.median(secs)}
        return res


# --------------------------------------------------------------------------
# Report

HEADER = ['workload', 'mode', 'N', 'runs', 'median s', 'median ns/iter', '±MAD',
          'x untraced', 'ns/event over untraced', 'target']


def lttng_anchor(res):
    """The anchor "LTTng-UST per-event cost" of one workload: a dict with
    the added ns per event of full tracing and of LTTng-UST over untraced
    (whole runs at the same N, each mode's median start-up run subtracted
    when all three have one) and their ratio; None when a mode is missing."""
    modes = res['modes']
    ms = [modes.get(m, {}) for m in (MODE_UNTRACED, MODE_FULL, MODE_LTTNG)]
    if not res['events'] or not all('median_s' in m for m in ms):
        return None
    startup = res['startup']
    corrected = all(m in startup for m in STARTUP_MODES)

    def work(mode, m):
        return m['median_s'] - (startup[mode] if corrected else 0.0)
    base = work(MODE_UNTRACED, ms[0])
    full = (work(MODE_FULL, ms[1]) - base) / res['events'] * 1e9
    lttng = (work(MODE_LTTNG, ms[2]) - base) / res['events'] * 1e9
    return {'full': full, 'lttng': lttng,
            'ratio': full / lttng if lttng > 0 else None,
            'corrected': corrected,
            'startup_ms': {m: startup[m] * 1e3 for m in STARTUP_MODES if m in startup},
            'untraced_ns': ms[0]['median']}


def ratio_target_text(wl_name, anchor):
    tgt = LTTNG_RATIO_TARGETS.get(wl_name)
    if tgt is None:
        return ''
    text = '<= %s LTTng-UST' % fraction(tgt)
    if anchor and anchor['ratio'] is not None:
        text += ' (%.2f, %s)' % (anchor['ratio'],
                                 'met' if anchor['ratio'] <= tgt else 'not met')
    return text


def fraction(x):
    d = round(1 / x)
    return '1/%d' % d if abs(x * d - 1) < 1e-9 else '%.2fx' % x


def anchor_lines(results):
    """The LTTng-UST comparison below the table, one line per workload."""
    lines = []
    for res in results:
        wl = res['workload']
        lt = res['modes'].get(MODE_LTTNG, {})
        if 'unavailable' in lt and not wl.lttng_exe:
            continue
        if 'unavailable' in lt or 'error' in lt:
            lines.append('  %-13s LTTng-UST %s' % (
                wl.name, lt.get('unavailable') or 'FAILED: ' + lt['error'].splitlines()[0][:100]))
            continue
        a = lttng_anchor(res)
        if not a:
            lines.append('  %-13s not measured (untraced, full tracing or the '
                         'event count missing)' % wl.name)
            continue
        tgt = LTTNG_RATIO_TARGETS.get(wl.name)
        ratio = (('%.2f' % a['ratio']) if a['ratio'] is not None else
                 'n/a (LTTng-UST\'s added cost is not above zero: noise)')
        if tgt is not None and a['ratio'] is not None:
            ratio += ' (target <= %s: %s)' % (fraction(tgt), 'met' if a['ratio'] <= tgt
                                               else 'not met')
        st = a['startup_ms']
        lines.append('  %-13s untraced %.0f ns/iter; added per event: LTTng-UST '
                     '%.0f ns, socktrace full tracing %.0f ns; socktrace / LTTng-UST '
                     '= %s%s'
                     % (wl.name, a['untraced_ns'], a['lttng'], a['full'], ratio,
                        ('; start-up (N=1): untraced %.1f ms, full tracing %.1f ms, '
                         'LTTng-UST %.1f ms' % (st[MODE_UNTRACED], st[MODE_FULL],
                                                st[MODE_LTTNG]))
                        if a['corrected'] else '; start-up not subtracted (a N=1 run failed)'))
    if lines:
        lines.insert(0, 'LTTng-UST per-event cost (the anchor): added ns per event over '
                     'untraced of whole runs at the same N, each mode\'s median '
                     'start-up run (N=1) subtracted first:')
    return lines


def rows_for(res):
    wl = res['workload']
    modes = res['modes']
    anchor = lttng_anchor(res)
    base = modes.get(MODE_UNTRACED, {})
    base_med = base.get('median')
    events_per_iter = res['events_per_iter']
    rows = []
    for name, m in modes.items():
        tgt = target_for(wl.name, name)
        tgt_s = ''
        if 'unavailable' in m or 'error' in m:
            what = m.get('unavailable') or 'FAILED: ' + m['error'].splitlines()[0][:60]
            tgt_s = ('<= %.2fx' % tgt) if tgt else ''
            if name == MODE_FULL:
                tgt_s = '; '.join(x for x in (tgt_s, ratio_target_text(wl.name, None)) if x)
            rows.append([wl.name, name, '', '', '', what, '', '', '', tgt_s])
            continue
        med = m['median']
        ratio = per_event = ''
        if base_med and name != MODE_UNTRACED:
            r = med / base_med
            ratio = '%.2fx' % r
            if events_per_iter:
                per_event = '%.0f' % ((med - base_med) / events_per_iter)
            if tgt:
                tgt_s = '<= %.2fx (%s)' % (tgt, 'met' if r <= tgt else 'not met')
        elif tgt:
            tgt_s = '<= %.2fx' % tgt
        if name == MODE_FULL:
            tgt_s = '; '.join(x for x in (tgt_s, ratio_target_text(wl.name, anchor)) if x)
        elif name == MODE_LTTNG and anchor:
            tgt_s = 'the reference (below)'
        rows.append([wl.name, name, str(m['n']), str(m['runs']),
                     '%.3f' % m['median_s'], '%.0f' % med, '%.1f%%' % (100.0 * m['mad'] / med if med else 0),
                     ratio, per_event, tgt_s])
    return rows


def print_text(table, notes, machine, workloads_info, anchor):
    print('socktrace benchmark: times are medians of whole runs divided by '
          'the iterations of the run (ns per iteration), so that strace, run '
          'with a smaller N, compares with the other modes.')
    print()
    widths = [max(len(r[i]) for r in [HEADER] + table) for i in range(len(HEADER))]
    right = {2, 3, 4, 5, 6, 7, 8}

    def fmt(r):
        return '  '.join(c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                         for i, c in enumerate(r)).rstrip()
    print(fmt(HEADER))
    print('  '.join('-' * w for w in widths))
    prev = None
    for r in table:
        if prev is not None and r[0] != prev:
            print()
        prev = r[0]
        print(fmt(r))
    print()
    if anchor:
        for line in anchor:
            print(line)
        print()
    for line in workloads_info:
        print(line)
    print()
    for line in notes:
        print(line)
    print()
    print('machine:')
    for k, v in machine:
        print('  %-22s %s' % (k + ':', v))


def print_markdown(table, notes, machine, workloads_info, anchor):
    print('Times are medians of whole runs divided by the iterations of the '
          'run (**ns per iteration**), so that strace, run with a smaller N, '
          'compares with the other modes.')
    print()
    print('| ' + ' | '.join(HEADER) + ' |')
    print('|' + '|'.join(['---', '---'] + ['---:'] * 7 + ['---']) + '|')
    for r in table:
        print('| ' + ' | '.join(c.replace('|', '\\|') for c in r) + ' |')
    print()
    for i, line in enumerate(anchor):
        if i == 0:
            print('- **' + line.rstrip(':') + '**:')
        else:
            name, rest = line.strip().split(None, 1)
            print('  - `%s`: %s' % (name, rest))
    for i, line in enumerate(workloads_info):
        if i == 0:
            print('- ' + line)
        else:
            name, rest = line.strip().split(None, 1)
            print('  - `%s`: %s' % (name, rest))
    for line in notes:
        print('- ' + line.strip())
    print()
    print('Machine: ' + '; '.join('%s: %s' % (k, v) for k, v in machine
                                  if k not in ('shim',)) + '.')


def main():
    ap = argparse.ArgumentParser(description='socktrace benchmarks')
    ap.add_argument('build', nargs='?', default='build-bench',
                    help='build directory (default: build-bench)')
    ap.add_argument('--rounds', type=int, default=None,
                    help='rounds (default 9, 3 with --quick)')
    ap.add_argument('--quick', action='store_true',
                    help='smoke run: 3 rounds, N divided by %d' % QUICK_DIV)
    ap.add_argument('--markdown', action='store_true',
                    help='print the table as Markdown')
    ap.add_argument('--only', action='append', default=[], metavar='WORKLOAD',
                    help='run only these workloads (repeatable or comma-separated): '
                    + ', '.join(w.name for w in WORKLOADS))
    ap.add_argument('--scale', type=float, default=1.0,
                    help='multiply every N by this (other machines)')
    ap.add_argument('--recount', action='store_true',
                    help='count events again instead of using the cache')
    ap.add_argument('--tmpdir', default=None,
                    help='where trace directories are made (default: $TMPDIR or /tmp)')
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 3 if args.quick else 9
    if args.rounds < 1 or args.scale <= 0:
        ap.error('--rounds and --scale must be positive')

    names = [w.name for w in WORKLOADS]
    only = [x for o in args.only for x in o.split(',') if x]
    for o in only:
        if o not in names:
            ap.error('unknown workload %r (one of: %s)' % (o, ', '.join(names)))
    selected = [w for w in WORKLOADS if not only or w.name in only]

    build = os.path.abspath(args.build)
    missing = [p for p in [os.path.join(build, 'preload', 'libsocktrace.so')]
               + [os.path.join(build, 'bench', w.exe) for w in selected]
               if not os.path.exists(p)]
    if missing:
        print('run.py: not built: %s\n(run bench/run, or meson compile -C %s)'
              % (', '.join(missing), args.build), file=sys.stderr)
        return 2

    # A SIGTERM or SIGHUP unwinds like ^C: the LTTng session daemon is
    # killed and the temporary directories are deleted on the way out.
    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    runner = Runner(args, selected)
    results = []
    try:
        machine = machine_description(runner.shim)
        if runner.lttng.version:
            machine.append(('LTTng', runner.lttng.version + (
                ' (root session daemon already running, pid %d, used and left '
                'running)' % runner.lttng.shared if runner.lttng.shared is not None
                else '')))
        for wl in selected:
            results.append(runner.bench(wl))
    finally:
        runner.close()

    table = []
    for res in results:
        table.extend(rows_for(res))
    workloads_info = ['workloads (events = "call" records of one fully traced '
                      'run, counted once and cached):']
    for res in results:
        wl = res['workload']
        n = runner.n_for(MODE_FULL, wl)
        ev = res['events']
        workloads_info.append('  %-13s %s; N=%d, %d iterations, %s events (%s per iteration)'
                              % (wl.name, wl.what, n, wl.iterations(n),
                                 ev if ev else '?',
                                 '%.2f' % (ev / wl.iterations(n)) if ev else '?'))
    notes = []
    sp = next((r for r in results if r['workload'].name == 'sp_loop'), None)
    if sp and sp['send_bytes']:
        notes.append('bytes per event: %.1f (average line of a "send" record '
                     'without payload in the sp_loop trace, newline included)'
                     % sp['send_bytes'])
    notes.append('modes: "%s" = LD_PRELOAD=shim SOCKTRACE_OUT=off '
                 "SOCKTRACE_FAULTS='%s'; \"%s\" = SOCKTRACE_OUT=<fresh directory "
                 'per run, deleted after it, outside the timed region>; "%s" and '
                 '"%s" = the same with SOCKTRACE_BACKTRACE=8 and =32; strace = '
                 'strace [-k] -f -qq -e trace=network -o /dev/null; stacks depth '
                 '32 and both strace modes with the smaller strace N; "%s" = the '
                 "workload's LTTng-UST variant (every call timed with clock_gettime "
                 'and recorded as a tracepoint with fd, ret, errnum, dur, len, flags, '
                 'peer; vpid and vtid contexts), in a fresh recording session per run (channel %s, '
                 'created, started, stopped and destroyed outside the timed '
                 'region) of a session daemon started for this run; a run fails '
                 'if LTTng discarded any event'
                 % (MODE_OFF, NEVER_MATCHING_RULE, MODE_FULL, MODE_STACKS, MODE_STACKS32,
                    MODE_LTTNG, ' '.join(LTTNG_CHANNEL_OPTS)))
    notes.append('%d round%s, modes alternating within each round; ±MAD = median '
                 'absolute deviation / median; ns/event over untraced = (median '
                 '- untraced median) per iteration / events per iteration; '
                 'targets are shown, never asserted'
                 % (args.rounds, '' if args.rounds == 1 else 's'))
    if args.quick:
        notes.append('--quick: N divided by %d: a smoke run, not a '
                     'measurement (LTTng-UST\'s per-event cost least of all: its '
                     'short runs barely pass once through its fresh buffers)'
                     % QUICK_DIV)

    anchor = anchor_lines(results)
    if args.markdown:
        print_markdown(table, notes, machine, workloads_info, anchor)
    else:
        print_text(table, notes, machine, workloads_info, anchor)
    return 1 if runner.failed else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
