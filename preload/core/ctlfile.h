/* The control file of a process running under the shim: how `socktrace
 * ctl` changes the fault rules of a program that is already running.
 *
 * Each process maps one small file, DIR/PID.ctl, MAP_SHARED, and keeps no
 * descriptor. DIR is private to the user (mode 0700, owned by them): the
 * file system's permissions are what keep other users out.
 *
 * Page 0 is special: the shim maps it over its own `st_hot` page, the
 * words every hook reads first (shim.h). `socktrace ctl` writes a request
 * in the file, then sets every bit of fault_fns and the active byte: the
 * next hooked call of any kind takes the fault path, where the shim sees
 * the request, applies it and writes back what it did. A process that is
 * never controlled reads the same words it would read anyway: the channel
 * costs it nothing per call.
 *
 * Who is alive: the shim holds an open-file-description lock (F_OFD_SETLK,
 * a read lock on byte ST_CTL_LOCK_LIVE) on its file from the moment it
 * makes it, before writing anything in it. The lock belongs to the open
 * file description, which the file's mapping keeps open after the
 * descriptor is closed: it lasts exactly as long as some process maps the
 * file (a fork child keeps its parent's until it has its own file), and
 * goes at exit, kill or exec, whatever the pid namespace. `socktrace ctl`
 * removes a file only when its identity is ours and nobody holds the lock
 * (ST_CTL_FLAG_LOCKED; a file without that flag only when nobody has it
 * open at all: a lease proves it). The tool's own lock, between two
 * `socktrace ctl`, is a write lock on byte ST_CTL_LOCK_REQ.
 *
 * Requests carry the whole new rule list, computed by the tool from what
 * the process published (or from a request still pending, which the new
 * one then supersedes): the shim only ever replaces its list, and two
 * requests can never be applied half each. docs/design.md has the whole
 * protocol. Shared by the shim (ctl.c), the tool (viewer/ctlclient.c)
 * and the unit tests. */
#ifndef SOCKTRACE_CTLFILE_H
#define SOCKTRACE_CTLFILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define ST_CTL_MAGIC "socktrace-ctl"
#define ST_CTL_VERSION 1
#define ST_CTL_PAGE 4096
#define ST_CTL_RULES_MAX 128
#define ST_CTL_ORIGIN_MAX 128
#define ST_CTL_TEXT_MAX 1024
#define ST_CTL_SUFFIX ".ctl"
/* Bit 63 of fault_fns is never a call: set, it means "a request waits". */
#define ST_CTL_PENDING_BIT (UINT64_C(1) << 63)
#define ST_CTL_WAKE_ALL UINT64_MAX
/* The bytes of the file the two locks cover (one byte each). */
#define ST_CTL_LOCK_LIVE 0
#define ST_CTL_LOCK_REQ 1
/* st_ctl_ident.flags: the maker holds the live lock. */
#define ST_CTL_FLAG_LOCKED 1u

enum st_ctl_op {
	ST_CTL_OP_NONE,
	ST_CTL_OP_REPLACE,
	ST_CTL_OP_ADD,
	ST_CTL_OP_ENABLE,
	ST_CTL_OP_DISABLE,
	ST_CTL_OP_CLEAR,
	ST_CTL_OP_COUNT
};

/* Who the process is: written by the shim at start-up and in a fork
 * child, read by --list. In page 0, which the shim writes anyway: a fork
 * child touches no other page of its new file. */
struct st_ctl_ident {
	char magic[16];
	uint32_t version;
	uint32_t file_size;        /* sizeof(struct st_ctl_file): layout check */
	int32_t pid, ppid;
	uint32_t uid;
	uint32_t flags;            /* ST_CTL_FLAG_* */
	uint64_t start_real_ns;    /* CLOCK_REALTIME when the shim started */
	uint64_t seed;             /* of prob=, jitter=, corrupt= */
	char prog[64];
};

#define ST_CTL_HOT_HEAD 64
#define ST_CTL_TRACE_DIR_MAX \
	(ST_CTL_PAGE - ST_CTL_HOT_HEAD - ST_CTL_RULES_MAX * 16 - sizeof(struct st_ctl_ident))

/* Page 0. The shim's hooks read fault_fns and active with plain loads;
 * writers use atomic builtins. counts: set 0's (the start-up rules)
 * selected and fired counts, here so that they need no pointer. */
struct st_ctl_hot {
	uint64_t fault_fns;        /* bit per enum st_fn some enabled rule selects */
	uint8_t active;            /* hooks have work (shim.h: st_active) */
	uint8_t pad0[3];
	uint32_t wake;             /* futex word, bumped by each request and change */
	uint64_t pad1[6];
	uint64_t counts[ST_CTL_RULES_MAX][2]; /* set 0: selected, fired */
	struct st_ctl_ident ident;
	char trace_dir[ST_CTL_TRACE_DIR_MAX]; /* "" when not tracing (or too long) */
} __attribute__((aligned(ST_CTL_PAGE)));

_Static_assert(sizeof(struct st_ctl_hot) == ST_CTL_PAGE, "page 0 is one page");

struct st_ctl_rule {
	char origin[ST_CTL_ORIGIN_MAX]; /* "FILE:LINE", "SOCKTRACE_FAULTS:N", "ctl:GEN" */
	char text[ST_CTL_TEXT_MAX];     /* normalised */
	uint8_t enabled;
	uint8_t pad[7];
};

/* Written by `socktrace ctl` under its lock (ST_CTL_LOCK_REQ). seq is
 * odd while it writes; the request's generation is seq / 2. */
struct st_ctl_req {
	uint64_t seq;
	uint32_t op;               /* enum st_ctl_op: what the user asked */
	uint32_t count;            /* rules in the new list */
	int32_t by_pid;            /* the socktrace ctl process */
	uint32_t pad;
	uint64_t posted_ns;        /* CLOCK_MONOTONIC when posted */
	uint64_t superseded;       /* generation of a pending request this one
				    * includes and replaces; 0: none */
	struct st_ctl_rule rules[ST_CTL_RULES_MAX];
};

/* Written by the shim (seq odd while it writes), read by the tool. */
struct st_ctl_state {
	uint64_t seq;
	uint64_t applied;          /* last generation applied or refused */
	int32_t refused;           /* the last request was refused: message says why */
	uint32_t set;              /* where the counts are: 0 page 0, 1 or 2 counts[] */
	uint32_t count;
	uint32_t pad;
	uint64_t applied_ns;       /* CLOCK_MONOTONIC when applied */
	char message[512];
	struct st_ctl_rule rules[ST_CTL_RULES_MAX];
};

struct st_ctl_file {
	struct st_ctl_hot hot;
	struct st_ctl_req req __attribute__((aligned(ST_CTL_PAGE)));
	struct st_ctl_state state __attribute__((aligned(ST_CTL_PAGE)));
	uint64_t counts[2][ST_CTL_RULES_MAX][2] __attribute__((aligned(ST_CTL_PAGE)));
};

/* Operation names, as in the trace's ctl record: "replace", "add", ... */
const char *st_ctl_op_name(enum st_ctl_op op);

/* The control directory for uid, candidate i (0, 1, ...; false when
 * there is no such candidate). setting is SOCKTRACE_CTL (NULL when unset;
 * an absolute directory, then the only candidate), xdg $XDG_RUNTIME_DIR
 * (NULL when unset; used only when it is a directory owned by uid).
 * Without either: /dev/shm/socktrace-ctl-UID, then /tmp/socktrace-ctl-UID.
 * tmpfs first: making and removing a file there costs a fork child a
 * fraction of what a journalled file system costs. */
bool st_ctl_dir_path(unsigned i, char *out, size_t cap, const char *setting, const char *xdg,
		     uid_t uid);

/* Opens the directory (creating it, mode 0700, when create) and checks it
 * is safe, as a trace directory is (dirsafe.h: a link only when uid's
 * own, the directory reached uid's and writable by nobody else). Returns
 * its descriptor (O_CLOEXEC) and fills st (when not NULL) with its fstat,
 * or -1 with why filled: "" when it simply does not exist or cannot be
 * made (nothing to report), a sentence ("control directory PATH is ...")
 * when it exists but is not safe. Raw system calls only: the shim calls
 * it. */
int st_ctl_dir_open(const char *path, uid_t uid, bool create, struct stat *st, char *why,
		    size_t why_cap);
/* The directory that st_ctl_dir_open opened (device and inode from its
 * st), still there by that path and still safe: a fork child checks it so
 * before making its file there by path. */
bool st_ctl_dir_still(const char *path, uid_t uid, dev_t dev, ino_t ino);

/* "PID.ctl". Not unique over time: the file of a dead process whose pid
 * is reused is replaced by the new process (never a file whose live lock
 * is held: a process of another pid namespace may have the same pid). */
void st_ctl_file_name(char *out, size_t cap, int pid);
/* Reads back a name made by st_ctl_file_name. */
bool st_ctl_parse_name(const char *name, int *pid);

#endif
