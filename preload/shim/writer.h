/* The trace file of this process.
 *
 * Records go into a MAP_SHARED mapping of the file: a record is in the page
 * cache, and so in the file, the moment it is copied, even if the process
 * is then killed with SIGKILL. Space is reserved with one atomic add on a
 * shared tail offset, so threads (and children made by raw clone) never
 * interleave or overwrite records, and the hot path takes no lock and
 * makes no system call. docs/design.md tells the whole story. */
#ifndef SOCKTRACE_WRITER_H
#define SOCKTRACE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fdtable.h"
#include "recframe.h"

/* Appends one whole record: a frame in a binary trace, a line (ending in
 * '\n') in a jsonl one. Creates the file on first use. False when it was
 * not written (counted as dropped): what it defines is not in the file. */
bool st_writer_write(const char *rec, size_t len);
/* Appends the JSON line at buf + ST_JSON_PRE (len bytes, newline
 * included, ST_JSON_POST bytes of room after it) in the trace's format. */
void st_writer_write_json(char *buf, size_t len);
/* The ids of what a binary trace file defines (intern.h); NULL in a
 * jsonl one, or before the file exists (the first record then writes
 * everything in full). */
struct st_intern_ids *st_writer_intern_ids(void);
/* Writes the end record and trims the file to its records. After this,
 * late records are appended with write(2). reason: "exit", "_exit", "exec". */
void st_writer_finish(const char *reason);
/* In the fork child: forget the parent's file; the child's own is created
 * on its first record. */
void st_writer_after_fork(void);
/* True when fd is the shim's own trace descriptor (checked against the
 * file, not just the number): hooks hide it from the program (close gives
 * EBADF, dup2 onto it moves ours away first). */
bool st_writer_owns_fd(int fd);
/* Our descriptor, verified, or -1 (costs an fstat: not for hot paths). */
int st_writer_fd(void);
/* Makes the file if there is none yet, and maps (and allocates) it at
 * least room bytes past the tail: for a process about to forbid itself
 * the system calls that make and grow it. Returns the bytes mapped past
 * the tail (fewer than room under a file size limit; 0 without a file). */
uint64_t st_writer_map_ahead(uint64_t room);
/* True once this process has its trace file. */
bool st_writer_has_file(void);
/* Moves one of the shim's own descriptors above the program's usual
 * range (closing the original); returns the new number, or fd itself when
 * no high number is free. */
int st_move_fd_high(int fd);
/* Moves our descriptor out of the way of a dup2/dup3 onto it. */
void st_writer_evict_fd(int fd);

#endif
