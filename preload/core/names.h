/* Symbolic names for the numbers that socket calls take and return.
 *
 * Traces carry names ("ECONNREFUSED", "SOCK_STREAM|SOCK_NONBLOCK") rather
 * than numbers so that they read the same on every machine and in every
 * tool. All lookups are table scans over static data: no allocation, safe
 * in the shim's hot path and in signal handlers. */
#ifndef SOCKTRACE_NAMES_H
#define SOCKTRACE_NAMES_H

#include <stddef.h>

struct st_name {
	int value;
	const char *name;
};

/* NULL when the number has no name here. */
const char *st_errno_name(int err);
/* -1 when the name is unknown. */
int st_errno_from_name(const char *name);
/* The errno table, for suggestions and for listing. */
const struct st_name *st_errno_table(size_t *count);

const char *st_family_name(int family);
const char *st_eai_name(int code);
int st_eai_from_name(const char *name);
const char *st_shutdown_name(int how);
const char *st_sol_name(int level);
const char *st_sockopt_name(int level, int optname);
const char *st_fcntl_name(int cmd);

/* Flag sets, written as "A|B|0x40" into buf; "0" for no flags. Returns the
 * length written (buf is always NUL-terminated when cap > 0). */
size_t st_socktype_str(char *buf, size_t cap, int type);
size_t st_msgflags_str(char *buf, size_t cap, int flags);
size_t st_sockflags_str(char *buf, size_t cap, int flags); /* SOCK_NONBLOCK|SOCK_CLOEXEC */
size_t st_aiflags_str(char *buf, size_t cap, int flags);
size_t st_spliceflags_str(char *buf, size_t cap, unsigned flags); /* SPLICE_F_MORE|... */

/* The protocol name for a family's protocol number ("IPPROTO_TCP"). */
const char *st_proto_name(int family, int proto);

#endif
