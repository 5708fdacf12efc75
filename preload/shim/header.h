/* The first record of every trace file: who wrote it, and the clock pair
 * that lets traces from several hosts be aligned. */
#ifndef SOCKTRACE_HEADER_H
#define SOCKTRACE_HEADER_H

#include <stddef.h>

/* Builds the header line into a static buffer (called once per file, by
 * the one thread that creates it). */
char *st_header_build(size_t *len);

#endif
