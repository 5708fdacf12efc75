/* framenames: the shim's names of stack frames by address. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "framenames.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Addresses that share a slot: ip ^ m*0x4004 changes (ip >> 2) and
 * (ip >> 14) alike in the bits the slot keeps. */
static uintptr_t alike(uintptr_t ip, unsigned m)
{
	return ip ^ ((uintptr_t)m * 0x4004);
}

static void check_name(uintptr_t ip, const char *func, uint32_t off, unsigned module)
{
	struct st_frame_info fi;

	assert_true(st_frame_known(ip));
	assert_true(st_frame_lookup(ip, &fi));
	assert_string_equal(fi.func, func);
	assert_int_equal(fi.off, off);
	assert_int_equal(fi.module, module);
}

static void test_unknown(void **state)
{
	struct st_frame_info fi;

	(void)state;
	assert_false(st_frame_known(0x7f0000000123));
	assert_false(st_frame_lookup(0x7f0000000123, &fi));
	st_frame_remember(0, "zero", 1, 1);
	assert_false(st_frame_known(0));
}

static void test_remember_once(void **state)
{
	(void)state;
	st_frame_remember(0x5500000011a0, "main", 0x95, 3);
	check_name(0x5500000011a0, "main", 0x95, 3);
	/* Named once: a second resolution does not replace the first. */
	st_frame_remember(0x5500000011a0, "other", 1, 4);
	check_name(0x5500000011a0, "main", 0x95, 3);
}

static void test_addresses_that_hash_alike_keep_their_names(void **state)
{
	uintptr_t base = 0x7f1234567890;
	char name[16];

	(void)state;
	/* Two frames of one stack in one slot: before, the second took the
	 * slot and the first was written as a frame with no name. */
	for (unsigned m = 0; m < 4; m++) {
		snprintf(name, sizeof(name), "f%u", m);
		st_frame_remember(alike(base, m), name, m, m);
	}
	for (unsigned m = 0; m < 4; m++) {
		snprintf(name, sizeof(name), "f%u", m);
		check_name(alike(base, m), name, m, m);
	}
	/* Past the probes one is replaced, and no lookup ever gives one
	 * address another's name. */
	st_frame_remember(alike(base, 4), "f4", 4, 4);
	check_name(alike(base, 4), "f4", 4, 4);
	for (unsigned m = 0; m < 5; m++) {
		struct st_frame_info fi;
		snprintf(name, sizeof(name), "f%u", m);
		if (st_frame_lookup(alike(base, m), &fi))
			assert_string_equal(fi.func, name);
	}
}

static void test_long_names_are_cut(void **state)
{
	char longname[200];
	struct st_frame_info fi;

	(void)state;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	st_frame_remember(0x6600000000f0, longname, 7, 1);
	assert_true(st_frame_lookup(0x6600000000f0, &fi));
	assert_int_equal(strlen(fi.func), ST_FRAME_FUNC_MAX - 1);
}

/* Threads name and read the same addresses: a copy is whole or refused. */
static void *hammer(void *arg)
{
	uintptr_t base = (uintptr_t)arg;
	char name[16], want[16];

	for (unsigned round = 0; round < 2000; round++) {
		unsigned m = round % 64;
		snprintf(name, sizeof(name), "g%u", m);
		st_frame_remember(base + m * 16, name, m, 1);
		struct st_frame_info fi;
		if (st_frame_lookup(base + m * 16, &fi)) {
			snprintf(want, sizeof(want), "g%u", m);
			assert_string_equal(fi.func, want);
			assert_int_equal(fi.off, m);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)0x4400000000);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (unsigned m = 0; m < 64; m++) {
		char name[16];
		snprintf(name, sizeof(name), "g%u", m);
		check_name(0x4400000000 + m * 16, name, m, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_remember_once),
		cmocka_unit_test(test_addresses_that_hash_alike_keep_their_names),
		cmocka_unit_test(test_long_names_are_cut),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
