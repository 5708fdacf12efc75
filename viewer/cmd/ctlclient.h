/* The tool's side of the control channel (preload/core/ctlfile.h): find
 * the control files of processes running under the shim, tell live ones
 * from stale ones, read what a process runs and post it a new rule list. */
#ifndef SOCKTRACE_CTLCLIENT_H
#define SOCKTRACE_CTLCLIENT_H

#include "ctlfile.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_DIRS_MAX 5

/* The directories to look in: SOCKTRACE_CTL's when set (or --dir), else
 * every place the shim may have used for this user (the session's
 * $XDG_RUNTIME_DIR, /run/user/UID, /dev/shm, /tmp), those that exist and
 * are safe.
 * Returns how many; *unsafe is set with a message for one that exists but
 * is not safe (the caller reports it). */
size_t ctl_dirs(char dirs[][PATH_MAX], size_t cap, const char *override, char *unsafe,
		size_t unsafe_cap);

/* One process's control file, open and mapped. */
struct ctl_proc {
	char path[PATH_MAX];
	int pid;
	dev_t dev;             /* the file's, to find it in /proc/PID/maps */
	ino_t ino;
	off_t size;
	int fd;
	struct st_ctl_file *file;
	char trace[PATH_MAX];  /* its trace file, from /proc/PID/maps, or "" */
};

/* Calls each(proc, arg) for every live process's file in dir (a process
 * of this pid namespace that maps it), and removes the files of processes
 * that have ended (or exec'ed a program without the shim): only files
 * with our identity, and only with a proof that nobody maps them any more
 * (the maker's live lock is free, ctlfile.h). A file whose maker lives
 * elsewhere (another pid namespace), one being made, one that is not
 * ours, is left alone; one of another version is also reported. When
 * each returns true it keeps proc (a copy of *p) and closes it later with
 * ctl_close. Returns the number of files removed, or -1 when dir cannot
 * be read. */
int ctl_scan(const char *dir, bool (*each)(struct ctl_proc *p, void *arg), void *arg);
void ctl_close(struct ctl_proc *p);
/* The process is there and still maps this file. */
bool ctl_alive(struct ctl_proc *p);

/* The rules the process runs now (or would run once its pending request
 * is applied, when pending): fills rules (cap ST_CTL_RULES_MAX). Returns
 * the count; *pending_gen is the pending request's generation, or 0. */
size_t ctl_current(const struct ctl_proc *p, struct st_ctl_rule *rules, uint64_t *pending_gen);

/* The published state: counts, message, applied generation, rules. */
struct ctl_state {
	uint64_t applied;
	bool refused;
	unsigned set;
	uint64_t applied_ns;
	char message[512];
	size_t count;
	struct st_ctl_rule rules[ST_CTL_RULES_MAX];
};
void ctl_read_state(const struct ctl_proc *p, struct ctl_state *st);
/* Selected and fired counts of rule i of the state's set. */
void ctl_counts(const struct ctl_proc *p, unsigned set, size_t i, uint64_t *selected,
		uint64_t *fired);

/* The generation the next request will have. */
uint64_t ctl_next_gen(const struct ctl_proc *p);

/* Takes the file's lock (waits up to timeout_ns for another socktrace
 * ctl to finish), so the list read and the request posted stay
 * consistent. */
bool ctl_lock(struct ctl_proc *p, uint64_t timeout_ns);
void ctl_unlock(struct ctl_proc *p);

/* Writes the request and wakes the process. Returns its generation. */
uint64_t ctl_post(struct ctl_proc *p, enum st_ctl_op op, const struct st_ctl_rule *rules,
		  size_t n, uint64_t superseded);

enum ctl_wait_result {
	CTL_APPLIED,
	CTL_REFUSED,
	CTL_PENDING,
	CTL_GONE,
};
/* Waits up to timeout_ns for the process to apply generation gen. */
enum ctl_wait_result ctl_wait(struct ctl_proc *p, uint64_t gen, uint64_t timeout_ns,
			      struct ctl_state *st);

uint64_t ctl_now(void);

/* Whether some other open file description of fd's file exists, in any
 * process of any namespace (a descriptor, or a mapping): a write lease is
 * granted only when none does. fd must be open for reading and writing,
 * and the file ours. Returns 1 when the file is in use, 0 when it is not
 * and the lease is now held (SIGIO ignored meanwhile: ctl_drop_lease ends
 * both, soon: an opener waits for it), -1 when leases are not available
 * (the file system, a file of another user). Also used to tidy traces. */
int ctl_take_lease(int fd);
void ctl_drop_lease(int fd);

#endif
