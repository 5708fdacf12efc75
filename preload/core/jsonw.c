#include "jsonw.h"

static const char hex_digits[] = "0123456789abcdef";

/* Two digits per division: timestamps have 13 and more, and every event
 * carries several numbers. */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static unsigned digits10(uint64_t v)
{
	unsigned n = 1;

	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

char *jw_put_u64(char *dst, uint64_t v)
{
	unsigned n = digits10(v);
	char *end = dst + n;
	char *p = end;

	while (v >= 100) {
		unsigned pair = (unsigned)(v % 100) * 2;
		v /= 100;
		*--p = digit_pairs[pair + 1];
		*--p = digit_pairs[pair];
	}
	if (v >= 10) {
		*--p = digit_pairs[v * 2 + 1];
		*--p = digit_pairs[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
	return end;
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

/* Length of the valid UTF-8 sequence starting at s, or 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF, the
 * same set strict JSON parsers such as jansson reject. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
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
			size_t sl = utf8_seq_len(u + i, n - i);
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
