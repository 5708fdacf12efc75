/* Between the rule sets (faultset.c) and the actions (fault.c): which
 * rule acts on a call. The sets' public face (start-up, ctl changes,
 * their rules and counts) is declared in fault.h. */
#ifndef SOCKTRACE_FAULTSET_H
#define SOCKTRACE_FAULTSET_H

#include "fault.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* The rule that acts on this call, with f's index, set and count filled
 * (NULL: none). Its arguments are those of st_fault_begin_dir. */
const struct st_rule *st_faults_select(struct st_fault *f, enum st_fn fn, enum st_data dir,
				       int fd, const struct sockaddr *addr, socklen_t addrlen,
				       bool addr_is_local, const char *host, uint64_t t0);
/* Whether rule r is still enabled in the set in force: `socktrace ctl`
 * may have disabled or removed it while a call hung under it. */
bool st_faults_in_force(const struct st_rule *r);
/* Where the trace file's id of the acting rule's texts is kept (which: 0
 * its origin, 1 its text; intern.h), for f's set and its version. */
_Atomic uint64_t *st_faults_text_tag(const struct st_fault *f, unsigned which);

#endif
