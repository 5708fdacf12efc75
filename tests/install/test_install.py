"""What `meson install` puts where (docs/install.md): the build is installed
into a DESTDIR once, and each test checks one part of that copy, run from
there as a user would run it: the shim's files and SONAME, the .pc file's
shim variable, `socktrace shim` and `socktrace run` of the installed tool
finding the installed shim, the man page, the bash completion, the
scenarios, and the ldconfig install script. Also what keeps the
documentation honest: every option of every `CMD --help` in the man page
and the completion, the README's list of the shim's dependencies against
its NEEDED entries.

The environment, set by tests/install/meson.build: SOCKTRACE_BUILD_ROOT,
SOCKTRACE_SOURCE_ROOT, SOCKTRACE_PREFIX, SOCKTRACE_LIBDIR, SOCKTRACE_BINDIR,
SOCKTRACE_DATADIR, SOCKTRACE_MANDIR (as configured, absolute),
SOCKTRACE_SHIM_SONAME, SOCKTRACE_MAN_BUILT (1 when scdoc made the page).
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import sttest  # noqa: E402
from sttest import check, check_eq  # noqa: E402

BUILD = os.environ.get("SOCKTRACE_BUILD_ROOT", "")
SOURCE = os.environ.get("SOCKTRACE_SOURCE_ROOT", "")
SONAME = os.environ.get("SOCKTRACE_SHIM_SONAME", "")
_destdir = None


def conf(name):
    value = os.environ.get("SOCKTRACE_" + name, "")
    check(value.startswith("/"), "SOCKTRACE_%s is not set (run through meson test)" % name)
    return value


def staged(path):
    """An installed path (as configured) inside the DESTDIR."""
    return destdir() + path


def destdir():
    """The DESTDIR the build was installed into, once per run."""
    global _destdir
    if _destdir is None:
        check(BUILD and os.path.isdir(BUILD), "SOCKTRACE_BUILD_ROOT is not set")
        d = tempfile.mkdtemp(prefix="socktrace-install.")
        atexit.register(shutil.rmtree, d, True)
        # --no-rebuild: meson test has built what the install needs; a
        # rebuild here would race the other tests for the build directory.
        r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", d],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=120)
        check_eq(r.returncode, 0, "meson install --destdir: %s" % r.stdout[-2000:])
        # A DESTDIR is never the system's: meson skips the ldconfig script
        # (skip_if_destdir), or the script itself says it did nothing.
        check("Running custom install script" not in r.stdout or "ldconfig not run" in r.stdout,
              "the ldconfig script ran for a DESTDIR: %s" % r.stdout[-2000:])
        _destdir = d
    return _destdir


def tool(*args, env=None):
    """The installed socktrace, with no SOCKTRACE_* of ours."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("SOCKTRACE_") and k != "LD_PRELOAD"}
    e.update(env or {})
    return subprocess.run([staged(conf("BINDIR")) + "/socktrace"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=e, timeout=30)


def commands():
    """The commands `socktrace help` lists."""
    r = tool("help")
    check_eq(r.returncode, 0, "socktrace help")
    names = re.findall(r"^  ([a-z]+)\b", r.stdout, re.M)
    check("run" in names and "shim" in names, "socktrace help lists its commands: %r" % names)
    return names


def help_options(cmd):
    """The options `socktrace CMD --help` lists: the dashed words of the
    option column of each line that starts with one."""
    r = tool(cmd, "--help")
    check_eq(r.returncode, 0, "socktrace %s --help" % cmd)
    opts = set()
    for line in r.stdout.splitlines():
        m = re.match(r"^ {2,}(--?[a-z].*?)(?: {2,}|$)", line)
        if not m:
            continue
        for word in re.findall(r"(?:^|[ ,|])(--?[a-z][a-z0-9-]*)", m.group(1)):
            opts.add(word)
    return opts


def elf_dynamic(path):
    """NEEDED entries and SONAME, from readelf (binutils)."""
    if not sttest.have_program("readelf"):
        sttest.skip("readelf not installed (Debian package binutils)")
    r = subprocess.run(["readelf", "-d", path], stdout=subprocess.PIPE, text=True, check=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", r.stdout)
    soname = re.findall(r"\(SONAME\)\s+Library soname: \[([^]]+)\]", r.stdout)
    return needed, soname


# ---------------------------------------------------------------------------

def test_shim_files_and_soname(sb):
    libdir = staged(conf("LIBDIR"))
    real = os.path.join(libdir, SONAME)
    link = os.path.join(libdir, "libsocktrace.so")
    check(os.path.isfile(real) and not os.path.islink(real),
          "the shim is installed as %s" % real)
    check(os.path.islink(link) and os.readlink(link) == SONAME,
          "libsocktrace.so, the name LD_PRELOAD=libsocktrace.so finds, links to %s" % SONAME)
    needed, soname = elf_dynamic(real)
    check_eq(soname, [SONAME], "the shim's SONAME")
    check("libc.so.6" in needed, "the shim links libc: %r" % needed)


def test_readme_names_the_shims_dependencies(sb):
    # README.md's "Dependencies" sentence names every library the shim
    # needs (readelf -d), and no other.
    needed, _ = elf_dynamic(os.path.join(staged(conf("LIBDIR")), SONAME))
    with open(os.path.join(SOURCE, "README.md")) as f:
        readme = f.read()
    m = re.search(r"^The shim itself needs (.*?) \(its NEEDED entries", readme, re.M | re.S)
    check(m, "README.md has a sentence 'The shim itself needs ... (its NEEDED entries'")
    named = set(re.findall(r"lib[a-z0-9_+-]+\.so\.[0-9]+", m.group(1)))
    check_eq(named, set(needed), "the libraries README.md says the shim needs (NEEDED)")


def test_pkg_config_shim_variable(sb):
    if not sttest.have_program("pkg-config"):
        sttest.skip("pkg-config not installed (Debian package pkg-config)")
    pcdir = os.path.join(staged(conf("LIBDIR")), "pkgconfig")
    check(os.path.isfile(os.path.join(pcdir, "socktrace.pc")), "socktrace.pc in %s" % pcdir)
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_LIBDIR=pcdir)
    r = subprocess.run(["pkg-config", "--variable=shim", "socktrace"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check_eq(r.returncode, 0, "pkg-config --variable=shim socktrace: %s" % r.stderr)
    shim = r.stdout.strip()
    check_eq(shim, os.path.join(conf("LIBDIR"), SONAME), "the .pc file's shim")
    check(os.path.isfile(staged(shim)), "the .pc file's shim is installed: %s" % staged(shim))


def test_socktrace_shim_prints_the_installed_shim(sb):
    want = os.path.realpath(os.path.join(staged(conf("LIBDIR")), SONAME))
    r = tool("shim")
    check_eq(r.returncode, 0, "socktrace shim: %s" % r.stderr)
    check_eq(r.stdout, want + "\n", "socktrace shim, from the installed tool")
    check(os.path.isfile(r.stdout.strip()), "the path it prints exists")
    r = tool("shim", env={"SOCKTRACE_LIB": os.path.join(sb.dir, "nothing.so")})
    check_eq(r.returncode, 1, "socktrace shim with SOCKTRACE_LIB naming nothing")
    check(r.stdout == "" and "SOCKTRACE_LIB" in r.stderr, "says why, prints no path: %r" % r.stderr)
    r = tool("shim", "extra")
    check_eq(r.returncode, 2, "socktrace shim with an argument")


def test_installed_run_preloads_the_installed_shim(sb):
    want = os.path.realpath(os.path.join(staged(conf("LIBDIR")), SONAME))
    out = os.path.join(sb.dir, "tr")
    # cat of its own maps: the shim is loaded from where it was installed.
    r = tool("run", "-q", "-o", out, "--", "cat", "/proc/self/maps")
    check_eq(r.returncode, 0, "installed socktrace run: %s" % r.stderr)
    loaded = set(re.findall(r"\s(/\S*libsocktrace\S*)$", r.stdout, re.M))
    check_eq(loaded, {want}, "the shim the installed run preloads")


def test_man_page(sb):
    if os.environ.get("SOCKTRACE_MAN_BUILT") != "1":
        sttest.skip("scdoc not installed (Debian package scdoc): the man page was not built")
    page = os.path.join(staged(conf("MANDIR")), "man1", "socktrace.1")
    check(os.path.isfile(page), "socktrace.1 installed in %s" % page)
    with open(page) as f:
        # roff escapes: minus signs, the zero-width marks after periods.
        roff = f.read().replace("\\-", "-").replace("\\&", "")
    check(roff.startswith(".\\\"") or ".TH" in roff, "socktrace.1 is a man page")
    check('.TH "socktrace" "1"' in roff, "its title is socktrace(1): %r" % roff[:200])
    for section in ["NAME", "SYNOPSIS", "COMMANDS", "FAULT RULES", "EXPECT LINES",
                    "ENVIRONMENT", "EXIT STATUS", "COMING FROM STRACE"]:
        check('.SH "%s"' % section in roff or ".SH %s" % section in roff,
              "socktrace.1 has the section %s" % section)
    # The paths it names are those configured, not placeholders.
    check("@" + "LIBDIR@" not in roff and os.path.join(conf("LIBDIR"), SONAME) in roff,
          "socktrace.1 names the installed shim")
    if sttest.have_program("man"):
        r = subprocess.run(["man", "-l", "-P", "cat", page], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=dict(os.environ, MANWIDTH="80"))
        check_eq(r.returncode, 0, "man -l socktrace.1: %s" % r.stderr)
        check("COMING FROM STRACE" in r.stdout, "man renders it")


def man_sections():
    """The man page's source, cut at its '## socktrace CMD' sections."""
    with open(os.path.join(SOURCE, "docs", "socktrace.1.scd")) as f:
        text = f.read()
    sections = {}
    for m in re.finditer(r"^## socktrace ([a-z]+)[^\n]*\n(.*?)(?=^#)", text, re.M | re.S):
        sections[m.group(1)] = m.group(2)
    return text, sections


def test_man_page_has_every_command_and_option(sb):
    text, sections = man_sections()
    for cmd in commands():
        check(cmd in sections, "docs/socktrace.1.scd has a '## socktrace %s' section" % cmd)
        if cmd in ("help", "version"):
            continue
        missing = sorted(o for o in help_options(cmd) - {"-h", "--help"}
                         if "*%s*" % o not in sections[cmd])
        check(not missing, "socktrace %s --help lists options docs/socktrace.1.scd does not: %s"
              % (cmd, " ".join(missing)))
    with open(os.path.join(SOURCE, "preload", "core", "config.c")) as f:
        variables = set(re.findall(r'"(SOCKTRACE_[A-Z_]+)"', f.read()))
    env_section = text[text.index("# ENVIRONMENT"):text.index("# EXIT STATUS")]
    missing = sorted(v for v in variables if "*%s*" % v not in env_section)
    check(not missing, "SOCKTRACE_* variables the shim knows, not in ENVIRONMENT: %s" % missing)


def completion(*words):
    """What the installed completion offers for the command line words
    (the last is the one being completed)."""
    script = staged(conf("DATADIR")) + "/bash-completion/completions/socktrace"
    check(os.path.isfile(script), "bash completion installed as %s" % script)
    words = ["socktrace"] + list(words)
    prog = ('. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
            '_socktrace socktrace "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"; '
            'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog, "bash", script] + words,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)
    check_eq(r.returncode, 0, "the completion for %r: %s" % (words, r.stderr))
    check_eq(r.stderr, "", "the completion for %r writes nothing on stderr" % words)
    return set(r.stdout.split("\n")) - {""}


def test_bash_completion(sb):
    if not sttest.have_program("bash"):
        sttest.skip("bash not installed (Debian package bash)")
    cmds = commands()
    check_eq(completion("") & set(cmds), set(cmds), "the commands offered")
    check_eq(completion("vi"), {"view"}, "socktrace vi<TAB>")
    for cmd in cmds:
        if cmd in ("help", "version"):
            continue
        offered = completion(cmd, "-")
        missing = sorted(help_options(cmd) - offered)
        check(not missing, "socktrace %s --help lists options the completion does not offer: %s"
              % (cmd, " ".join(missing)))
    check_eq(completion("view", "-f", ""), {"text", "html", "mermaid", "perfetto", "jsonl"},
             "socktrace view -f <TAB>")
    check_eq(completion("view", "--format", "=", "m"), {"mermaid"}, "socktrace view --format=m<TAB>")
    check_eq(completion("report", "--format", ""), {"markdown", "junit"},
             "socktrace report --format <TAB>")
    check_eq(completion("run", "-f", "connect err"), {"connect error="},
             "a rule's action: socktrace run -f 'connect err<TAB>")
    check_eq(completion("run", "-f", "connect error=ECONNREF"), {"connect error=ECONNREFUSED"},
             "an errno: socktrace run -f 'connect error=ECONNREF<TAB>")
    check("connect,receives" in completion("run", "-f", "connect,rec"),
          "a call list: socktrace run -f 'connect,rec<TAB>")
    check_eq(completion("help", "st"), {"stats"}, "socktrace help st<TAB>")


def test_scenarios(sb):
    dest = os.path.join(staged(conf("DATADIR")), "socktrace", "scenarios")
    src = os.path.join(SOURCE, "samples", "scenarios")
    check(os.path.isdir(dest), "scenarios installed in %s" % dest)
    check_eq(sorted(os.listdir(dest)), sorted(os.listdir(src)), "the scenarios installed")
    for name in os.listdir(src):
        with open(os.path.join(src, name), "rb") as a, open(os.path.join(dest, name), "rb") as b:
            check(a.read() == b.read(), "%s installed as it is" % name)
    scns = sorted(os.path.join(dest, n) for n in os.listdir(dest) if n.endswith(".scn"))
    r = tool("check", "-q", *scns)
    check_eq(r.returncode, 0, "installed socktrace check of the installed scenarios: %s" % r.stderr)


def ldconfig_script(sb, prefix, libdir, destdir=None, listed=True, fails=False):
    """Runs tools/install-ldconfig.sh with a stand-in ldconfig that records its
    calls; -p lists the shim when `listed`. Returns (calls, output)."""
    bindir = os.path.join(sb.dir, "bin")
    os.makedirs(bindir, exist_ok=True)
    log = os.path.join(sb.dir, "calls")
    if os.path.exists(log):
        os.unlink(log)
    with open(os.path.join(bindir, "ldconfig"), "w") as f:
        f.write("#!/bin/sh\necho \"ldconfig $*\" >>%s\n" % log)
        if fails:
            f.write("exit 1\n")
        if listed:
            f.write('[ "$1" = -p ] && echo "\tlibsocktrace.so (libc6,x86-64) => %s/libsocktrace.so"\n'
                    % libdir)
        f.write("exit 0\n")
    os.chmod(os.path.join(bindir, "ldconfig"), 0o755)
    env = {k: v for k, v in os.environ.items() if k != "DESTDIR"}
    env["PATH"] = bindir + ":" + env["PATH"]
    if destdir:
        env["DESTDIR"] = destdir
    r = subprocess.run(["sh", os.path.join(SOURCE, "tools", "install-ldconfig.sh"), prefix, libdir],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    check_eq(r.returncode, 0, "install-ldconfig.sh never fails the install: %s" % r.stdout)
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    return calls, r.stdout


def test_ldconfig_install_script(sb):
    lib = "/usr/local/lib/x86_64-linux-gnu"
    calls, out = ldconfig_script(sb, "/usr/local", lib)
    check_eq(calls, ["ldconfig ", "ldconfig -p"], "a system prefix: ldconfig, then the check")
    check_eq(out, "", "and nothing to say when the shim is in the cache")
    calls, out = ldconfig_script(sb, "/usr", "/usr/lib64", listed=False)
    check_eq(len(calls), 2, "ldconfig runs for /usr")
    check("not in the loader's search path" in out and "LD_PRELOAD=/usr/lib64/libsocktrace.so" in out,
          "a libdir ldconfig does not cache is said so: %r" % out)
    calls, out = ldconfig_script(sb, "/usr/local", lib, destdir=os.path.join(sb.dir, "stage"))
    check_eq(calls, [], "no ldconfig into a DESTDIR")
    calls, out = ldconfig_script(sb, "/home/u/opt", "/home/u/opt/lib")
    check_eq(calls, [], "no ldconfig for a prefix of one's own")
    check("socktrace shim" in out and "/home/u/opt/lib/libsocktrace.so" in out,
          "says how to preload the shim instead: %r" % out)
    calls, out = ldconfig_script(sb, "/usr/local", lib, fails=True)
    check("ldconfig failed" in out, "a failing ldconfig is reported: %r" % out)


if __name__ == "__main__":
    sttest.main()
