#include "calls.h"

#include <errno.h>
#include <string.h>

#define ST_CALL(name, base, groups, data, ...) \
	static const short st_errs_##name[] = { __VA_ARGS__, 0 };
#include "calls.def"
#undef ST_CALL

static const struct st_call_info call_table[ST_FN_COUNT] = {
#define ST_CALL(name, base_, groups_, data_, ...) \
	[ST_FN_##name] = { #name, ST_FN_##base_, groups_, data_, st_errs_##name },
#include "calls.def"
#undef ST_CALL
};

/* Plural or distinct names: "send", "recv" and "close" are calls. */
const struct st_group_name st_groups[] = {
	{ "setup", ST_G_SETUP },
	{ "sends", ST_G_SEND },
	{ "receives", ST_G_RECV },
	{ "teardown", ST_G_CLOSE },
	{ "opt", ST_G_OPT },
	{ "fd", ST_G_FD },
	{ "dns", ST_G_DNS },
	{ "rw", ST_G_RW },
	{ "data", ST_G_SEND | ST_G_RECV },
	{ "all", ~0u },
	{ NULL, 0 },
};

const struct st_call_info *st_call_info(enum st_fn fn)
{
	return (unsigned)fn < ST_FN_COUNT ? &call_table[fn] : NULL;
}

enum st_fn st_call_by_name(const char *name)
{
	for (unsigned i = 0; i < ST_FN_COUNT; i++)
		if (strcmp(call_table[i].name, name) == 0)
			return (enum st_fn)i;
	return ST_FN_COUNT;
}

bool st_call_may_fail_with(enum st_fn fn, int err)
{
	const struct st_call_info *ci = st_call_info(fn);

	if (!ci || err <= 0)
		return false;
	for (const short *e = ci->errnos; *e; e++)
		if (*e == err)
			return true;
	return false;
}
