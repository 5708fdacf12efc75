/* How many columns of a terminal text takes, as wcwidth(3) counts them
 * in a UTF-8 locale, but the same everywhere (no locale needed): East
 * Asian wide and fullwidth characters (CJK, and emoji such as U+26A1 HIGH
 * VOLTAGE that the text view marks faults with) take two, combining marks
 * and format characters none, everything else one. The text view measures
 * every glyph it draws with this, so that no line is wider than the
 * terminal. */
#ifndef SOCKTRACE_DISPWIDTH_H
#define SOCKTRACE_DISPWIDTH_H

#include <stddef.h>
#include <stdint.h>

/* Columns of one code point: 0, 1 or 2 (control characters: 0). */
int dw_cp(uint32_t cp);
/* Decodes the code point at *s and moves *s past it; a byte that does not
 * start a valid UTF-8 sequence is taken alone, as U+FFFD. */
uint32_t dw_next(const char **s);
/* Columns of the UTF-8 text s. */
size_t dw_str(const char *s);

#endif
