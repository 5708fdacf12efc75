/* "Did you mean ...?" for misspelt names in variables, rules and options. */
#ifndef SOCKTRACE_SUGGEST_H
#define SOCKTRACE_SUGGEST_H

#include <stddef.h>

/* Edit distance, capped at 255 (names here are short). */
unsigned st_edit_distance(const char *a, const char *b);

/* The closest of candidates[0..n) to word, or NULL if none is close enough
 * to be a likely typo (distance at most a third of the word, at least 1). */
const char *st_suggest(const char *word, const char *const *candidates, size_t n);

#endif
