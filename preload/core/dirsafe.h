/* Whether the shim may make files in a directory: one check for the
 * trace directory (shim/writer.c) and the control directory (ctlfile.c,
 * so `socktrace ctl` too), so that the two never disagree. */
#ifndef SOCKTRACE_DIRSAFE_H
#define SOCKTRACE_DIRSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* link: the lstat of the directory's path; dir: the fstat of the
 * directory as opened (through the link, if it is one). Safe when a link
 * there is uid's own, and the directory reached is a directory that
 * belongs to uid and that neither group nor others may write (sticky or
 * not: others could plant names in it). Returns true when safe; else
 * false, with why: a phrase that follows the directory's name ("belongs
 * to uid 65534, not to this user (uid 1000)"). */
bool st_dir_safe(const struct stat *link, const struct stat *dir, uid_t uid, char *why,
		 size_t cap);
/* The first half, before the directory is opened: link is not a link, or
 * uid's own. */
bool st_dir_link_safe(const struct stat *link, uid_t uid, char *why, size_t cap);

#endif
