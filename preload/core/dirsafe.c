#include "dirsafe.h"

#include <stdio.h>

bool st_dir_link_safe(const struct stat *link, uid_t uid, char *why, size_t cap)
{
	if (!S_ISLNK(link->st_mode) || link->st_uid == uid)
		return true;
	snprintf(why, cap, "is a link owned by uid %u, not by this user (uid %u)",
		 (unsigned)link->st_uid, (unsigned)uid);
	return false;
}

bool st_dir_safe(const struct stat *link, const struct stat *dir, uid_t uid, char *why,
		 size_t cap)
{
	if (!st_dir_link_safe(link, uid, why, cap))
		return false;
	if (!S_ISDIR(dir->st_mode))
		snprintf(why, cap, "is not a directory");
	else if (dir->st_uid != uid)
		snprintf(why, cap, "belongs to uid %u, not to this user (uid %u)",
			 (unsigned)dir->st_uid, (unsigned)uid);
	else if (dir->st_mode & (S_IWGRP | S_IWOTH))
		snprintf(why, cap, "is writable by other users (mode %04o; chmod go-w)",
			 (unsigned)(dir->st_mode & 07777));
	else
		return true;
	return false;
}
