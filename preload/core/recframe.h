/* Framing of binary traces (docs/trace-format.md, "Binary files").
 *
 * A file is a 24-byte prologue, then frames:
 *
 *   0xA5 | body length (varint, 1 to 3 bytes) | body | check (2 bytes)
 *
 * The check is a hash of the length and the body, so a frame's validity
 * is checked on its own: a reader that meets a hole (the NUL bytes of a
 * writer killed between reserving and copying), a frame cut by a writer
 * killed while copying it (its check, the last bytes copied, is still
 * zero) or garbage, skips a byte and looks for the next sync byte whose
 * frame checks. */
#ifndef SOCKTRACE_RECFRAME_H
#define SOCKTRACE_RECFRAME_H

#include "fields.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ST_FRAME_SYNC 0xA5u
/* Room kept before a body for its sync byte and length. */
#define ST_FRAME_HEAD_MAX 4u
#define ST_FRAME_TAIL 2u
#define ST_FRAME_BODY_MAX ((1u << 21) - 1)

#define ST_PROLOGUE_LEN 24u
#define ST_PROLOGUE_MAGIC "\x89socktr\n"
#define ST_BINARY_MAJOR 1u
#define ST_BINARY_MINOR 0u

static inline uint64_t st_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Cheap, and enough to tell a torn or shifted frame from a whole one:
 * one multiply per 8 bytes. */
static inline uint16_t st_frame_check(const uint8_t *body, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15u ^ ((uint64_t)n * 0xff51afd7ed558ccdu);
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		h = (h ^ st_le64(body + i)) * 0xc4ceb9fe1a85ec53u;
		h ^= h >> 31;
	}
	if (i < n) {
		uint64_t w = 0;
		for (size_t k = 0; i + k < n; k++)
			w |= (uint64_t)body[i + k] << (8 * k);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
		h ^= h >> 31;
	}
	h *= 0xff51afd7ed558ccdu;
	return (uint16_t)(h >> 48);
}

/* Closes the frame of the body at buf + ST_FRAME_HEAD_MAX (len bytes,
 * with ST_FRAME_TAIL bytes of room after it): writes the check after it
 * and the sync byte and length before it. Returns where the frame
 * starts; *frame_len is its length. */
static inline uint8_t *st_frame_close(uint8_t *buf, size_t len, size_t *frame_len)
{
	uint8_t *body = buf + ST_FRAME_HEAD_MAX;
	uint16_t check = st_frame_check(body, len);
	unsigned k = len < 0x80 ? 1 : len < 0x4000 ? 2 : 3;
	uint8_t *start = body - k - 1;

	body[len] = (uint8_t)check;
	body[len + 1] = (uint8_t)(check >> 8);
	start[0] = ST_FRAME_SYNC;
	if (k == 1) {
		start[1] = (uint8_t)len;
	} else if (k == 2) {
		start[1] = (uint8_t)(len | 0x80);
		start[2] = (uint8_t)(len >> 7);
	} else {
		start[1] = (uint8_t)(len | 0x80);
		start[2] = (uint8_t)((len >> 7) | 0x80);
		start[3] = (uint8_t)(len >> 14);
	}
	*frame_len = 1 + k + len + ST_FRAME_TAIL;
	return start;
}

/* A JSON line built in place (header, exec, warning, ctl and end
 * records) keeps this room before and after it, so that a binary trace
 * frames it where it is: its kind byte before, the check over its
 * newline and one byte more. */
#define ST_JSON_PRE (ST_FRAME_HEAD_MAX + 1)
#define ST_JSON_POST 1u

/* Frames the JSON line at buf + ST_JSON_PRE (len bytes, newline
 * included) as an ST_K_JSON record. */
static inline uint8_t *st_frame_json(uint8_t *buf, size_t len, size_t *frame_len)
{
	buf[ST_FRAME_HEAD_MAX] = ST_K_JSON;
	return st_frame_close(buf, len, frame_len);
}

enum st_frame_res {
	ST_FRAME_OK,    /* a whole frame that checks */
	ST_FRAME_MORE,  /* may be a frame, but it runs past the bytes given */
	ST_FRAME_BAD,   /* no frame starts here */
};

/* Whether a frame starts at p (avail bytes there). On ST_FRAME_OK, the
 * body is p + *body_off, *body_len bytes, and the frame *frame_len. */
enum st_frame_res st_frame_parse(const uint8_t *p, size_t avail, size_t *frame_len,
				 size_t *body_off, size_t *body_len);

/* The prologue: magic, major, minor, 6 zero bytes, the time base (ns,
 * little-endian): the call records' "ts" are relative to it. */
void st_prologue_write(uint8_t out[ST_PROLOGUE_LEN], int64_t base);
/* True when p (n bytes) starts with the magic. */
bool st_prologue_is(const uint8_t *p, size_t n);
/* Checks a whole prologue: 0, or -1 with *major set when this reader does
 * not take its version. */
int st_prologue_read(const uint8_t p[ST_PROLOGUE_LEN], int64_t *base, unsigned *major,
		     unsigned *minor);

#endif
