/* A byte stream from a path, standard input ("-"), a pipe or a FIFO,
 * decompressed when it is gzip or zstd (told by its first bytes, not by
 * its name).
 *
 * Nothing here seeks, maps or sizes the input: a pipe reads like a file.
 * What must be read again (the trace reader opens each file twice per
 * pass, and view reads a trace twice) asks for INS_AGAIN: an input that
 * cannot be opened a second time (standard input, a pipe, a FIFO, a
 * socket, a character device) is then copied, as it is read and
 * decompressed, into an unlinked temporary file in $TMPDIR (else /tmp),
 * which this and every later open of the same path in the process read
 * from (and ins_skip goes through without decoding again): memory does
 * not grow with the input. A regular file is opened again by its path.
 *
 * Compressed data are decompressed as a stream: gzip members one after
 * the other (a concatenated file is read whole), zstd frames likewise.
 * Data cut short or damaged are read as far as they are valid; then the
 * stream ends and ins_damage() says why. */
#ifndef SOCKTRACE_INSTREAM_H
#define SOCKTRACE_INSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct instream;

/* ins_open flags */
/* The path will be opened again: keep a copy of what cannot be reopened. */
#define INS_AGAIN 1u

/* Opens path ("-": standard input, never closed here). NULL with errno
 * set when it cannot be opened, or its first bytes cannot be read. */
struct instream *ins_open(const char *path, unsigned flags);
/* Up to n bytes of the (decompressed) content: the count, 0 at the end
 * (also where damaged compressed data stop: ins_damage), -1 with errno
 * on a read error. */
ssize_t ins_read(struct instream *s, void *buf, size_t n);
/* Goes n bytes forward: a seek where the input is a regular file as it
 * is (past its end, the next read ends), else reading them: 0, or -1
 * with errno (EIO: the end came first). */
int ins_skip(struct instream *s, uint64_t n);
/* "gzip", "zstd", or NULL for data as they are. */
const char *ins_format(const struct instream *s);
/* Why the compressed data ended before their end (cut short, corrupt),
 * once the stream has ended; NULL when they ended whole. */
const char *ins_damage(const struct instream *s);
void ins_close(struct instream *s);

/* Whether path names standard input. */
bool ins_is_stdin(const char *path);
/* The name to show in messages: "stdin" for "-", else the path. */
const char *ins_shown(const char *path);

/* Whether name ends in a suffix of compressed data (.gz, .zst); *stem
 * gets the length without it. */
bool ins_compressed_name(const char *name, size_t *stem);

#endif
