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
	uint32_t pad;
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

/* Written by `socktrace ctl` under an exclusive flock of the file. seq is
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
 * is safe: a real directory (no symlink), owned by uid, no access for
 * group or others. Returns its descriptor (O_CLOEXEC), or -1 with why
 * filled: "" when it simply does not exist or cannot be made (nothing to
 * report), a sentence when it exists but is not safe. Raw system calls
 * only: the shim calls it. */
int st_ctl_dir_open(const char *path, uid_t uid, bool create, char *why, size_t why_cap);

/* "PID.ctl". Not unique over time: the file of a dead process whose pid
 * is reused is replaced by the new process, and the tool tells a live
 * process's file by /proc/PID/maps, which maps it. */
void st_ctl_file_name(char *out, size_t cap, int pid);
/* Reads back a name made by st_ctl_file_name. */
bool st_ctl_parse_name(const char *name, int *pid);

#endif
