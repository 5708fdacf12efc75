#include "jsonw.h"

static const char hex_digits[] = "0123456789abcdef";

/* Two digits per division: timestamps have 13 and more, and every event
 * carries several numbers. */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static inline void put2(char *p, uint32_t v)
{
	memcpy(p, digit_pairs + 2 * v, 2);
}

/* Exactly four digits of v < 10000, zero-padded. */
static inline void put4(char *p, uint32_t v)
{
	put2(p, v / 100);
	put2(p + 2, v % 100);
}

/* Exactly eight digits of v < 10^8: two halves that do not wait for each
 * other, in 32-bit arithmetic. */
static inline void put8(char *p, uint32_t v)
{
	put4(p, v / 10000);
	put4(p + 4, v % 10000);
}

/* v < 10^8 without leading zeros. Most numbers in a record (fd, pid,
 * lengths, durations) end here after two or three comparisons. */
static char *put_small(char *p, uint32_t v)
{
	if (v < 100) {
		if (v < 10) {
			*p = (char)('0' + v);
			return p + 1;
		}
		put2(p, v);
		return p + 2;
	}
	if (v < 10000) {
		if (v < 1000) {
			*p = (char)('0' + v / 100);
			put2(p + 1, v % 100);
			return p + 3;
		}
		put4(p, v);
		return p + 4;
	}
	if (v < 1000000) {
		if (v < 100000) {
			*p = (char)('0' + v / 10000);
			put4(p + 1, v % 10000);
			return p + 5;
		}
		put2(p, v / 10000);
		put4(p + 2, v % 10000);
		return p + 6;
	}
	if (v < 10000000) {
		*p = (char)('0' + v / 1000000);
		put2(p + 1, v / 10000 % 100);
		put4(p + 3, v % 10000);
		return p + 7;
	}
	put8(p, v);
	return p + 8;
}

char *jw_put_8digits(char *dst, uint32_t v)
{
	put8(dst, v);
	return dst + 8;
}

char *jw_put_u64(char *dst, uint64_t v)
{
	const uint64_t e8 = 100000000u;
	const uint64_t e16 = e8 * e8;

	if (v < e8)
		return put_small(dst, (uint32_t)v);
	if (v < e16) {
		dst = put_small(dst, (uint32_t)(v / e8));
		put8(dst, (uint32_t)(v % e8));
		return dst + 8;
	}
	dst = put_small(dst, (uint32_t)(v / e16));
	v %= e16;
	put8(dst, (uint32_t)(v / e8));
	put8(dst + 8, (uint32_t)(v % e8));
	return dst + 16;
}

char *jw_put_i64(char *dst, int64_t v)
{
	if (v < 0) {
		*dst++ = '-';
		/* Negate in unsigned arithmetic so INT64_MIN stays defined. */
		return jw_put_u64(dst, (uint64_t)0 - (uint64_t)v);
	}
	return jw_put_u64(dst, (uint64_t)v);
}

void jw_u64(struct jw *w, uint64_t v)
{
	if (w->end - w->p >= 20) {
		w->p = jw_put_u64(w->p, v);
		return;
	}
	char tmp[20];
	jw_raw(w, tmp, (size_t)(jw_put_u64(tmp, v) - tmp));
}

void jw_i64(struct jw *w, int64_t v)
{
	if (w->end - w->p >= 21) {
		w->p = jw_put_i64(w->p, v);
		return;
	}
	char tmp[21];
	jw_raw(w, tmp, (size_t)(jw_put_i64(tmp, v) - tmp));
}

void jw_bool(struct jw *w, bool v)
{
	if (v)
		jw_raw(w, "true", 4);
	else
		jw_raw(w, "false", 5);
}

void jw_str_trusted(struct jw *w, const char *s, size_t n)
{
	jw_char(w, '"');
	jw_raw(w, s, n);
	jw_char(w, '"');
}

size_t jw_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Writes the escape for one byte that cannot appear raw, into out. */
static size_t escape_byte(char out[6], unsigned char c)
{
	switch (c) {
	case '"':  out[0] = '\\'; out[1] = '"'; return 2;
	case '\\': out[0] = '\\'; out[1] = '\\'; return 2;
	case '\n': out[0] = '\\'; out[1] = 'n'; return 2;
	case '\r': out[0] = '\\'; out[1] = 'r'; return 2;
	case '\t': out[0] = '\\'; out[1] = 't'; return 2;
	default:
		out[0] = '\\';
		out[1] = 'u';
		out[2] = '0';
		out[3] = '0';
		out[4] = hex_digits[c >> 4];
		out[5] = hex_digits[c & 15];
		return 6;
	}
}

size_t json_escape_text(char *dst, size_t cap, const char *s, size_t n,
			size_t *consumed_out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;
	size_t i = 0;

	while (i < n) {
		char piece[6];
		const char *src = piece;
		size_t plen;
		size_t consumed;

		if (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '"' && u[i] != '\\') {
			src = s + i;
			plen = 1;
			consumed = 1;
		} else if (u[i] >= 0x80) {
			size_t sl = jw_utf8_len(u + i, n - i);
			if (sl) {
				src = s + i;
				plen = sl;
				consumed = sl;
			} else {
				src = "\xef\xbf\xbd"; /* U+FFFD */
				plen = 3;
				consumed = 1;
			}
		} else {
			plen = escape_byte(piece, u[i]);
			consumed = 1;
		}
		if (o + plen > cap)
			break;
		memcpy(dst + o, src, plen);
		o += plen;
		i += consumed;
	}
	if (consumed_out)
		*consumed_out = i;
	return o;
}

void jw_str(struct jw *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	jw_char(w, '"');
	/* Fast path: plain ASCII needs no escaping and is copied in one go. */
	while (i < n && u[i] >= 0x20 && u[i] < 0x7f && u[i] != '"' && u[i] != '\\')
		i++;
	jw_raw(w, s, i);
	if (i < n && !w->overflow) {
		size_t consumed;
		w->p += json_escape_text(w->p, (size_t)(w->end - w->p), s + i,
					 n - i, &consumed);
		if (consumed < n - i)
			w->overflow = true;
	}
	jw_char(w, '"');
}

void jw_bytes(struct jw *w, const void *data, size_t n)
{
	const unsigned char *u = data;

	jw_char(w, '"');
	for (size_t i = 0; i < n; i++) {
		if (u[i] >= 0x20 && u[i] < 0x7f && u[i] != '"' && u[i] != '\\') {
			jw_char(w, (char)u[i]);
		} else {
			char piece[6];
			jw_raw(w, piece, escape_byte(piece, u[i]));
		}
	}
	jw_char(w, '"');
}
