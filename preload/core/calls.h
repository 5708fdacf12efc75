/* The interposed calls, their rule groups and the errnos each may return,
 * all derived from calls.def. */
#ifndef SOCKTRACE_CALLS_H
#define SOCKTRACE_CALLS_H

#include <stdbool.h>
#include <stddef.h>

enum st_group {
	ST_G_SETUP = 1 << 0, /* socket, socketpair, bind, listen, accept, connect */
	ST_G_SEND = 1 << 1,
	ST_G_RECV = 1 << 2,
	ST_G_CLOSE = 1 << 3, /* close, shutdown */
	ST_G_OPT = 1 << 4,   /* socket options and names */
	ST_G_FD = 1 << 5,    /* dup family, fcntl: traced to keep the fd table right */
	ST_G_DNS = 1 << 6,
	ST_G_RW = 1 << 7,    /* read/write family: traced only on sockets */
	/* sendfile, splice: the kernel moves the bytes between two
	 * descriptors, never through the program's memory. So no payload in
	 * their records and no corrupt= (rules.c). Not a group rules name. */
	ST_G_KCOPY = 1 << 8,
};

enum st_data {
	ST_DATA_NONE,
	ST_DATA_OUT,
	ST_DATA_IN,
	/* Either, decided by the arguments of each call (splice: whether the
	 * socket is the one written or the one read). The call is in both
	 * ST_G_SEND and ST_G_RECV; its record says which it was ("dir"), and
	 * rules select it by direction (rules.h: fns_sending, fns_receiving). */
	ST_DATA_BOTH,
};

enum st_fn {
#define ST_CALL(name, base, groups, data, ...) ST_FN_##name,
#include "calls.def"
#undef ST_CALL
	ST_FN_COUNT
};

/* Rules and the shim's hot-path test keep a bit per call in 64 bits. */
_Static_assert(ST_FN_COUNT <= 64, "more calls than bits in a rule's fns");

struct st_call_info {
	const char *name;
	enum st_fn base;
	unsigned groups;
	enum st_data data;
	const short *errnos; /* terminated by 0 */
};

const struct st_call_info *st_call_info(enum st_fn fn);
/* ST_FN_COUNT when the name is not an interposed call. */
enum st_fn st_call_by_name(const char *name);
bool st_call_may_fail_with(enum st_fn fn, int err);

struct st_group_name {
	const char *name;
	unsigned mask;
};
/* Groups as rules name them ("setup", "send", ...), NULL-terminated. */
extern const struct st_group_name st_groups[];

#endif
