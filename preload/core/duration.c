/* Durations, rates and sizes as rules and expectations write them. */
#include "rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
	const char *name;
	double scale;
};

static bool parse_scaled(const char *s, const struct unit *units, double *out)
{
	char *end;
	double v;

	if (!s || !*s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return false;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return false;
	for (const struct unit *u = units; u->name; u++) {
		if (strcmp(end, u->name) == 0) {
			*out = v * u->scale;
			/* Below 2^64 (with room), so that the conversion to
			 * uint64_t is defined. */
			return isfinite(*out) && *out < 1.8e19;
		}
	}
	return false;
}

static const struct unit time_units[] = {
	/* A bare number is seconds, as for sleep(1) and timeout(1). */
	{ "", 1e9 }, { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 },
	{ "h", 3600e9 }, { NULL, 0 },
};

bool st_parse_duration(const char *s, uint64_t *ns)
{
	double v;

	if (!parse_scaled(s, time_units, &v))
		return false;
	/* Not llround: it stops at 2^63, and parse_scaled allows 1.8e19. */
	*ns = (uint64_t)(v + 0.5);
	return true;
}

size_t st_format_duration(uint64_t ns, char *buf, size_t cap)
{
	/* The largest unit that shows the value exactly. */
	static const struct { const char *name; uint64_t scale; } units[] = {
		{ "h", 3600000000000ull }, { "m", 60000000000ull }, { "s", 1000000000ull },
		{ "ms", 1000000ull }, { "us", 1000ull }, { "ns", 1ull },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].scale == 0 && (ns || units[i].scale == 1)) {
			int n = snprintf(buf, cap, "%llu%s",
					 (unsigned long long)(ns / units[i].scale), units[i].name);
			return n > 0 ? (size_t)n : 0;
		}
	}
	return 0;
}

static const struct unit rate_units[] = {
	{ "B/s", 1 }, { "kB/s", 1e3 }, { "KB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
	{ "KiB/s", 1024 }, { "MiB/s", 1048576 }, { "GiB/s", 1073741824 },
	{ "bit/s", 1.0 / 8 }, { "kbit/s", 1e3 / 8 }, { "Mbit/s", 1e6 / 8 },
	{ "Gbit/s", 1e9 / 8 }, { NULL, 0 },
};

bool st_parse_rate(const char *s, uint64_t *bytes_per_sec)
{
	double v;

	if (!parse_scaled(s, rate_units, &v) || v < 1)
		return false;
	*bytes_per_sec = (uint64_t)(v + 0.5);
	return true;
}

size_t st_format_rate(uint64_t bps, char *buf, size_t cap)
{
	static const struct { const char *name; uint64_t scale; } units[] = {
		{ "GB/s", 1000000000ull }, { "GiB/s", 1073741824ull }, { "MB/s", 1000000ull },
		{ "MiB/s", 1048576ull }, { "kB/s", 1000ull }, { "KiB/s", 1024ull }, { "B/s", 1ull },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (bps % units[i].scale == 0) {
			int n = snprintf(buf, cap, "%llu%s",
					 (unsigned long long)(bps / units[i].scale), units[i].name);
			return n > 0 ? (size_t)n : 0;
		}
	}
	return 0;
}

static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 }, { "k", 1e3 }, { "kB", 1e3 }, { "KB", 1e3 }, { "KiB", 1024 },
	{ "M", 1e6 }, { "MB", 1e6 }, { "MiB", 1048576 }, { "G", 1e9 }, { "GB", 1e9 },
	{ "GiB", 1073741824 }, { NULL, 0 },
};

bool st_parse_size(const char *s, uint64_t *bytes)
{
	double v;

	if (!parse_scaled(s, size_units, &v) || v != floor(v))
		return false;
	*bytes = (uint64_t)v;
	return true;
}

size_t st_format_size(uint64_t bytes, char *buf, size_t cap)
{
	static const struct { const char *name; uint64_t scale; } units[] = {
		{ "GB", 1000000000ull }, { "GiB", 1073741824ull }, { "MB", 1000000ull },
		{ "MiB", 1048576ull }, { "kB", 1000ull }, { "KiB", 1024ull },
	};
	for (size_t i = 0; bytes && i < sizeof(units) / sizeof(units[0]); i++) {
		if (bytes % units[i].scale == 0) {
			int n = snprintf(buf, cap, "%llu%s",
					 (unsigned long long)(bytes / units[i].scale), units[i].name);
			return n > 0 ? (size_t)n : 0;
		}
	}
	int n = snprintf(buf, cap, "%llu", (unsigned long long)bytes);
	return n > 0 ? (size_t)n : 0;
}
