"""Binary trace files (docs/trace-format.md, "Binary files") for the tests.

The framing is walked here, independently of the C reader, so that the
tests check the writer's bytes (whole frames, holes, what a killed writer
left) against the format document rather than against socktrace's own
reader. The records themselves are read with `socktrace cat`, the one
decoder of record bodies."""

import os
import re
import subprocess

MAGIC = b"\x89socktr\n"
PROLOGUE_LEN = 24
SYNC = 0xA5
MASK = (1 << 64) - 1


def is_binary(path):
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def frame_check(body):
    """The 16-bit check of recframe.h, st_frame_check."""
    n = len(body)
    h = (0x9E3779B97F4A7C15 ^ ((n * 0xff51afd7ed558ccd) & MASK)) & MASK
    i = 0
    while i + 8 <= n:
        w = int.from_bytes(body[i:i + 8], "little")
        h = ((h ^ w) * 0xc4ceb9fe1a85ec53) & MASK
        h ^= h >> 31
        i += 8
    if i < n:
        w = int.from_bytes(body[i:], "little")
        h = ((h ^ w) * 0xc4ceb9fe1a85ec53) & MASK
        h ^= h >> 31
    h = (h * 0xff51afd7ed558ccd) & MASK
    return h >> 48


def parse_frame(data, pos):
    """(frame length, body) when a whole frame that checks starts at pos,
    else None."""
    if data[pos] != SYNC:
        return None
    length, shift, k = 0, 0, pos + 1
    while k < len(data) and k <= pos + 3:
        b = data[k]
        length |= (b & 0x7f) << shift
        shift += 7
        k += 1
        if not b & 0x80:
            break
    else:
        return None
    nbytes = k - pos - 1
    if length == 0 or (nbytes == 2 and length < 0x80) or (nbytes == 3 and length < 0x4000):
        return None
    end = k + length + 2
    if end > len(data):
        return None
    body = data[k:k + length]
    if int.from_bytes(data[k + length:end], "little") != frame_check(body):
        return None
    return end - pos, body


class Layout:
    """Where a binary file's bytes went: frames, NUL runs (holes and
    padding), and bytes that start no frame (records cut by a killed
    writer, damage)."""

    def __init__(self, data):
        self.frames = []     # (offset, length, body)
        self.nul_runs = []   # (offset, length)
        self.junk = []       # (offset, length)
        self.prologue_ok = data[:len(MAGIC)] == MAGIC and len(data) >= PROLOGUE_LEN
        pos = PROLOGUE_LEN if self.prologue_ok else len(data)
        junk_start = None
        while pos < len(data):
            if data[pos] == 0:
                end = pos
                while end < len(data) and data[end] == 0:
                    end += 1
                self._end_junk(junk_start, pos)
                junk_start = None
                self.nul_runs.append((pos, end - pos))
                pos = end
                continue
            got = parse_frame(data, pos)
            if got is None:
                if junk_start is None:
                    junk_start = pos
                pos += 1
                continue
            self._end_junk(junk_start, pos)
            junk_start = None
            self.frames.append((pos, got[0], got[1]))
            pos += got[0]
        self._end_junk(junk_start, len(data))

    def _end_junk(self, start, end):
        if start is not None:
            self.junk.append((start, end - start))

    @property
    def last_frame_end(self):
        return self.frames[-1][0] + self.frames[-1][1] if self.frames else PROLOGUE_LEN

    def nul_bytes(self):
        return sum(n for _, n in self.nul_runs)

    def nul_inside(self):
        """NUL bytes before the last frame: a hole, not padding."""
        last = self.last_frame_end
        return any(off < last for off, _ in self.nul_runs)


def cat(path, tool=None):
    """`socktrace cat PATH`: (the JSON lines, stderr)."""
    tool = tool or os.environ["SOCKTRACE_TOOL"]
    r = subprocess.run([tool, "cat", path], capture_output=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("socktrace cat %s: exit %d: %s"
                           % (path, r.returncode, r.stderr.decode("utf-8", "replace")))
    return r.stdout.split(b"\n")[:-1], r.stderr.decode("utf-8", "replace")


class CatReport:
    """What `socktrace cat` said on stderr it skipped in a file: NUL bytes
    between records (holes) and after the last (padding), records cut by a
    killed writer (cut: one entry per record), and anything else it said
    (other: records it could not use, references to what the file never
    defined)."""

    NUL = re.compile(r": (\d+) NUL bytes (between records|of padding)")
    CUT = re.compile(r": (\d+) incomplete record")

    def __init__(self, err):
        self.nul_holes = self.nul_padding = 0
        self.cut = []
        self.other = []
        for line in err.splitlines():
            m = self.NUL.search(line)
            c = self.CUT.search(line)
            if m and m.group(2) == "between records":
                self.nul_holes += int(m.group(1))
            elif m:
                self.nul_padding += int(m.group(1))
            elif c:
                self.cut.extend([line] * int(c.group(1)))
            elif line.strip():
                self.other.append(line)
