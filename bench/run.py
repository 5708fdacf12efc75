#!/usr/bin/env python3
"""socktrace benchmark runner (python3 standard library only).

Usage: python3 bench/run.py [BUILD_DIR] [--rounds R] [--quick] [--markdown]
                            [--only WORKLOAD[,WORKLOAD...]] [--scale F]

Runs every workload of bench/ (built in BUILD_DIR/bench/) in several modes:
untraced, under the shim with tracing off and one fault rule that never
matches, under the shim with full tracing, with full tracing and stack
capture of 8 and of 32 frames (when the shim supports it), under strace and
under strace -k (stack traces, when strace supports it). Modes alternate within
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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# --------------------------------------------------------------------------
# Workloads. n: iterations in a full run, chosen so that an untraced run takes
# about 0.5 s on the reference machine (2-core AMD EPYC VM); strace_n: the
# same for strace, about 100x slower on the cheapest calls, so that a traced
# run takes about 1 s (also used by the other slow modes: stacks of 32
# frames and strace -k). quick_div divides both for --quick.

THREADS = 4


class Workload:
    def __init__(self, name, n, strace_n, what, extra_args=(), iter_mult=1, exe=None):
        self.name = name
        self.exe = exe or name
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
             'socketpair, send 64 + recv 64 per iteration'),
    Workload('rw_loop', 300000, 5000,
             'socketpair, write 64 + read 64 per iteration (the shim makes them '
             'as send and recv)', extra_args=['rw'], exe='sp_loop'),
    Workload('tcp_pingpong', 40000, 5000,
             'TCP loopback, 64-byte request/response per iteration, 2 processes '
             'pinned to one CPU'),
    Workload('conn_churn', 10000, 3000,
             'TCP loopback, one connection per iteration (socket, connect, '
             'accept, send 1, recv, close)'),
    Workload('threads', 120000, 4000,
             '%d threads, own socketpair each, send 64 + recv 64 per iteration '
             '(iterations = N x %d)' % (THREADS, THREADS),
             extra_args=[str(THREADS)], iter_mult=THREADS),
]
QUICK_DIV = 10

MODE_UNTRACED = 'untraced'
MODE_OFF = 'shim, tracing off, 1 rule never matching'
MODE_FULL = 'full tracing'
MODE_STACKS = 'tracing + stacks depth 8'
MODE_STACKS32 = 'tracing + stacks depth 32'
MODE_STRACE = 'strace -f -e trace=network'
MODE_STRACE_K = 'strace -k -f -e trace=network'

# Frames per stack of the stack modes.
STACK_DEPTH = {MODE_STACKS: 8, MODE_STACKS32: 32}
# Modes run with the workload's smaller strace_n.
SLOW_MODES = (MODE_STACKS32, MODE_STRACE, MODE_STRACE_K)

NEVER_MATCHING_RULE = 'connect port=1 error=ECONNREFUSED'

# Shown next to the results, never asserted.
TARGETS = {
    ('sp_loop', MODE_FULL): 1.25,
    ('*', MODE_OFF): 1.03,
}


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


def scan_trace(tracedir):
    """Count "call" records in every file of tracedir; also return the line
    lengths (newline included) of "send" records, and the records the shim
    says it dropped."""
    calls = 0
    send_lens = []
    dropped = 0
    files = 0
    for name in os.listdir(tracedir):
        path = os.path.join(tracedir, name)
        if not os.path.isfile(path):
            continue
        files += 1
        with open(path, 'rb') as f:
            for line in f:
                line = line.lstrip(b'\0')
                if not line.strip():
                    continue
                # Field order is fixed by docs/trace-format.md: rec first.
                if line.startswith(b'{"rec":"call"'):
                    calls += 1
                    if b'"fn":"send",' in line:
                        n = len(line) if line.endswith(b'\n') else len(line) + 1
                        send_lens.append(n)
                elif line.startswith(b'{"rec":"end"'):
                    try:
                        dropped += int(json.loads(line).get('dropped', 0))
                    except ValueError:
                        pass
    return files, calls, send_lens, dropped


class Mode:
    def __init__(self, name, unavailable=None):
        self.name = name
        self.unavailable = unavailable    # reason string, or None


class Runner:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.shim = os.path.join(self.build, 'preload', 'libsocktrace.so')
        self.base_env = clean_env()
        self.tmproot = args.tmpdir or tempfile.gettempdir()
        self.errfile = tempfile.TemporaryFile(prefix='socktrace-bench-err-')
        self.cache_path = os.path.join(self.build, 'bench', 'event-counts.json')
        self.failed = False
        self.strace, strace_reason = strace_status()
        stacks = shim_has_stacks(self.shim)
        self.modes = [
            Mode(MODE_UNTRACED),
            Mode(MODE_OFF),
            Mode(MODE_FULL),
            Mode(MODE_STACKS, None if stacks else 'n/a (stacks not built)'),
            Mode(MODE_STACKS32, None if stacks else 'n/a (stacks not built)'),
            Mode(MODE_STRACE, strace_reason),
            Mode(MODE_STRACE_K, strace_k_status(self.strace, strace_reason)),
        ]

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
        return env

    def argv_for(self, mode, wl, n):
        argv = wl.argv(os.path.join(self.build, 'bench', wl.exe), n)
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

    def run_mode(self, mode, wl):
        """One timed run; returns seconds. The trace directory of a tracing
        mode is made before and deleted after the timed region."""
        tracedir = None
        if mode == MODE_FULL or mode in STACK_DEPTH:
            tracedir = tempfile.mkdtemp(prefix='socktrace-bench-', dir=self.tmproot)
        try:
            secs = run_timed(self.argv_for(mode, wl, self.n_for(mode, wl)),
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
               'events_per_iter': None}
        try:
            res['events'], res['send_bytes'] = self.count_events(wl)
            res['events_per_iter'] = (res['events']
                                      / wl.iterations(self.n_for(MODE_FULL, wl)))
        except RunFailed as e:
            log('  FAILED counting events: %s' % e)
            self.failed = True

        active = [m for m in self.modes if m.unavailable is None]
        times = {m.name: [] for m in active}
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
            k = r % len(active)
            for m in active[k:] + active[:k]:
                if m.name in errors:
                    continue
                try:
                    times[m.name].append(self.run_mode(m.name, wl))
                except RunFailed as e:
                    errors[m.name] = str(e)
                    log('  FAILED %s: %s' % (m.name, e))
                    self.failed = True
        for m in self.modes:
            if m.unavailable is not None:
                res['modes'][m.name] = {'unavailable': m.unavailable}
            elif m.name in errors:
                res['modes'][m.name] = {'error': errors[m.name]}
            else:
                n = self.n_for(m.name, wl)
                per_iter = [t / wl.iterations(n) * 1e9 for t in times[m.name]]
                med = statistics.median(per_iter)
                mad = statistics.median([abs(x - med) for x in per_iter])
                res['modes'][m.name] = {'n': n, 'runs': len(per_iter),
                                        'median': med, 'mad': mad,
                                        'median_s': statistics.median(times[m.name])}
        return res


# --------------------------------------------------------------------------
# Report

HEADER = ['workload', 'mode', 'N', 'runs', 'median s', 'median ns/iter', '±MAD',
          'x untraced', 'ns/event over untraced', 'target']


def rows_for(res):
    wl = res['workload']
    modes = res['modes']
    base = modes.get(MODE_UNTRACED, {})
    base_med = base.get('median')
    events_per_iter = res['events_per_iter']
    rows = []
    for name, m in modes.items():
        tgt = target_for(wl.name, name)
        tgt_s = ''
        if 'unavailable' in m or 'error' in m:
            what = m.get('unavailable') or 'FAILED: ' + m['error'].splitlines()[0][:60]
            rows.append([wl.name, name, '', '', '', what, '', '', '',
                         ('<= %.2fx' % tgt) if tgt else ''])
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
        rows.append([wl.name, name, str(m['n']), str(m['runs']),
                     '%.3f' % m['median_s'], '%.0f' % med, '%.1f%%' % (100.0 * m['mad'] / med if med else 0),
                     ratio, per_event, tgt_s])
    return rows


def print_text(table, notes, machine, workloads_info):
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
    for line in workloads_info:
        print(line)
    print()
    for line in notes:
        print(line)
    print()
    print('machine:')
    for k, v in machine:
        print('  %-22s %s' % (k + ':', v))


def print_markdown(table, notes, machine, workloads_info):
    print('Times are medians of whole runs divided by the iterations of the '
          'run (**ns per iteration**), so that strace, run with a smaller N, '
          'compares with the other modes.')
    print()
    print('| ' + ' | '.join(HEADER) + ' |')
    print('|' + '|'.join(['---', '---'] + ['---:'] * 7 + ['---']) + '|')
    for r in table:
        print('| ' + ' | '.join(c.replace('|', '\\|') for c in r) + ' |')
    print()
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

    runner = Runner(args)
    machine = machine_description(runner.shim)
    results = []
    try:
        for wl in selected:
            results.append(runner.bench(wl))
    finally:
        runner.errfile.close()

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
                 '32 and both strace modes with the smaller strace N'
                 % (MODE_OFF, NEVER_MATCHING_RULE, MODE_FULL, MODE_STACKS, MODE_STACKS32))
    notes.append('%d round%s, modes alternating within each round; ±MAD = median '
                 'absolute deviation / median; ns/event over untraced = (median '
                 '- untraced median) per iteration / events per iteration; '
                 'targets are shown, never asserted'
                 % (args.rounds, '' if args.rounds == 1 else 's'))
    if args.quick:
        notes.append('--quick: N divided by %d: a smoke run, not a '
                     'measurement' % QUICK_DIV)

    if args.markdown:
        print_markdown(table, notes, machine, workloads_info)
    else:
        print_text(table, notes, machine, workloads_info)
    return 1 if runner.failed else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
