#include "recframe.h"

enum st_frame_res st_frame_parse(const uint8_t *p, size_t avail, size_t *frame_len,
				 size_t *body_off, size_t *body_len)
{
	size_t len = 0, k;

	if (avail == 0)
		return ST_FRAME_MORE;
	if (p[0] != ST_FRAME_SYNC)
		return ST_FRAME_BAD;
	for (k = 1; k <= 3; k++) {
		if (k >= avail)
			return ST_FRAME_MORE;
		len |= (size_t)(p[k] & 0x7f) << (7 * (k - 1));
		if (!(p[k] & 0x80))
			break;
	}
	if (k > 3 || len == 0)
		return ST_FRAME_BAD;
	/* The shortest form only: a frame has one encoding. */
	if ((k == 2 && len < 0x80) || (k == 3 && len < 0x4000))
		return ST_FRAME_BAD;
	if (avail < 1 + k + len + ST_FRAME_TAIL)
		return ST_FRAME_MORE;
	const uint8_t *body = p + 1 + k;
	uint16_t check = (uint16_t)(body[len] | body[len + 1] << 8);
	if (check != st_frame_check(body, len))
		return ST_FRAME_BAD;
	*frame_len = 1 + k + len + ST_FRAME_TAIL;
	*body_off = 1 + k;
	*body_len = len;
	return ST_FRAME_OK;
}

void st_prologue_write(uint8_t out[ST_PROLOGUE_LEN], int64_t base)
{
	uint64_t b = (uint64_t)base;

	memset(out, 0, ST_PROLOGUE_LEN);
	memcpy(out, ST_PROLOGUE_MAGIC, 8);
	out[8] = ST_BINARY_MAJOR;
	out[9] = ST_BINARY_MINOR;
	for (unsigned i = 0; i < 8; i++)
		out[16 + i] = (uint8_t)(b >> (8 * i));
}

bool st_prologue_is(const uint8_t *p, size_t n)
{
	size_t k = n < 8 ? n : 8;

	return k > 0 && memcmp(p, ST_PROLOGUE_MAGIC, k) == 0;
}

int st_prologue_read(const uint8_t p[ST_PROLOGUE_LEN], int64_t *base, unsigned *major,
		     unsigned *minor)
{
	*major = p[8];
	*minor = p[9];
	*base = (int64_t)st_le64(p + 16);
	return memcmp(p, ST_PROLOGUE_MAGIC, 8) == 0 && *major == ST_BINARY_MAJOR ? 0 : -1;
}
