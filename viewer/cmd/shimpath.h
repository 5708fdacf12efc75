/* Where the shim (libsocktrace.so.1) is: found by the tool itself so that
 * users never have to spell out its path. */
#ifndef SOCKTRACE_SHIMPATH_H
#define SOCKTRACE_SHIMPATH_H

#include <stddef.h>

/* Fills path with the shim to preload: $SOCKTRACE_LIB when set, else the
 * one next to this tool in a build tree (../preload/), else the one
 * installed with it (LIBDIR relative to this tool's directory, then LIBDIR
 * itself), by its SONAME's file, libsocktrace.so.1. Returns 0, or -1 with
 * a message on stderr. */
int st_find_shim(char *path, size_t cap);

#endif
