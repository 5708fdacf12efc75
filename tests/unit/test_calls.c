/* calls: the table of interposed calls from calls.def. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "calls.h"
#include "names.h"

#include <errno.h>
#include <string.h>

static void test_every_fn_named(void **state)
{
	(void)state;
	assert_true(ST_FN_COUNT > 30);
	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		const struct st_call_info *ci = st_call_info((enum st_fn)i);

		assert_non_null(ci);
		assert_non_null(ci->name);
		assert_true(strlen(ci->name) > 0);
		/* Names are unique and look each other up. */
		assert_int_equal(st_call_by_name(ci->name), i);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(ci->name, st_call_info((enum st_fn)j)->name);
	}
	assert_null(st_call_info(ST_FN_COUNT));
	assert_null(st_call_info((enum st_fn)-1));
}

static void test_by_name(void **state)
{
	(void)state;
	assert_int_equal(st_call_by_name("connect"), ST_FN_connect);
	assert_int_equal(st_call_by_name("socket"), ST_FN_socket);
	assert_int_equal(st_call_by_name("__recv_chk"), ST_FN___recv_chk);
	assert_int_equal(st_call_by_name("getaddrinfo"), ST_FN_getaddrinfo);
	assert_string_equal(st_call_info(ST_FN_accept4)->name, "accept4");
	assert_string_equal(st_call_info(ST_FN___read_chk)->name, "__read_chk");
	assert_int_equal(st_call_by_name("nope"), ST_FN_COUNT);
	assert_int_equal(st_call_by_name(""), ST_FN_COUNT);
	assert_int_equal(st_call_by_name("Connect"), ST_FN_COUNT);
	assert_int_equal(st_call_by_name("connec"), ST_FN_COUNT);
}

static void test_bases(void **state)
{
	(void)state;
	assert_int_equal(st_call_info(ST_FN___recv_chk)->base, ST_FN_recv);
	assert_int_equal(st_call_info(ST_FN___recvfrom_chk)->base, ST_FN_recvfrom);
	assert_int_equal(st_call_info(ST_FN___read_chk)->base, ST_FN_read);
	assert_int_equal(st_call_info(ST_FN_accept4)->base, ST_FN_accept);
	assert_int_equal(st_call_info(ST_FN_recv)->base, ST_FN_recv);
	assert_int_equal(st_call_info(ST_FN_connect)->base, ST_FN_connect);
	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		const struct st_call_info *ci = st_call_info((enum st_fn)i);
		const struct st_call_info *base = st_call_info(ci->base);

		/* A base is a plain call, and a variant behaves like its base. */
		assert_non_null(base);
		assert_int_equal(base->base, ci->base);
		assert_int_equal(ci->groups, base->groups);
		assert_int_equal(ci->data, base->data);
	}
}

static void test_groups_and_data(void **state)
{
	(void)state;
	assert_true(st_call_info(ST_FN_recv)->groups & ST_G_RECV);
	assert_false(st_call_info(ST_FN_recv)->groups & ST_G_SEND);
	assert_int_equal(st_call_info(ST_FN_write)->groups, ST_G_SEND | ST_G_RW);
	assert_int_equal(st_call_info(ST_FN_read)->groups, ST_G_RECV | ST_G_RW);
	assert_int_equal(st_call_info(ST_FN_send)->groups, ST_G_SEND);
	assert_int_equal(st_call_info(ST_FN_connect)->groups, ST_G_SETUP);
	assert_int_equal(st_call_info(ST_FN_close)->groups, ST_G_CLOSE);
	assert_int_equal(st_call_info(ST_FN_shutdown)->groups, ST_G_CLOSE);
	assert_int_equal(st_call_info(ST_FN_setsockopt)->groups, ST_G_OPT);
	assert_int_equal(st_call_info(ST_FN_dup2)->groups, ST_G_FD);
	assert_int_equal(st_call_info(ST_FN_getaddrinfo)->groups, ST_G_DNS);

	assert_int_equal(st_call_info(ST_FN_send)->data, ST_DATA_OUT);
	assert_int_equal(st_call_info(ST_FN_writev)->data, ST_DATA_OUT);
	assert_int_equal(st_call_info(ST_FN_recvmsg)->data, ST_DATA_IN);
	assert_int_equal(st_call_info(ST_FN___recv_chk)->data, ST_DATA_IN);
	assert_int_equal(st_call_info(ST_FN_connect)->data, ST_DATA_NONE);

	/* The kernel's copies: sendfile sends; splice goes either way. */
	assert_int_equal(st_call_info(ST_FN_sendfile)->groups, ST_G_SEND | ST_G_KCOPY);
	assert_int_equal(st_call_info(ST_FN_sendfile64)->base, ST_FN_sendfile);
	assert_int_equal(st_call_info(ST_FN_sendfile)->data, ST_DATA_OUT);
	assert_int_equal(st_call_info(ST_FN_splice)->groups, ST_G_SEND | ST_G_RECV | ST_G_KCOPY);
	assert_int_equal(st_call_info(ST_FN_splice)->data, ST_DATA_BOTH);
	assert_true(st_call_may_fail_with(ST_FN_sendfile, EOVERFLOW));
	assert_true(st_call_may_fail_with(ST_FN_sendfile64, EPIPE));
	assert_true(st_call_may_fail_with(ST_FN_splice, ESPIPE));
	assert_true(st_call_may_fail_with(ST_FN_splice, ECONNRESET));
	assert_false(st_call_may_fail_with(ST_FN_sendfile, ENOTSOCK));
	assert_false(st_call_may_fail_with(ST_FN_splice, ECONNABORTED));

	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		const struct st_call_info *ci = st_call_info((enum st_fn)i);

		assert_true(ci->groups != 0);
		/* Data flows out of send calls and into recv calls, only; a
		 * call in both groups goes either way. */
		if ((ci->groups & ST_G_SEND) && (ci->groups & ST_G_RECV))
			assert_int_equal(ci->data, ST_DATA_BOTH);
		else if (ci->groups & ST_G_SEND)
			assert_int_equal(ci->data, ST_DATA_OUT);
		else if (ci->groups & ST_G_RECV)
			assert_int_equal(ci->data, ST_DATA_IN);
		else
			assert_int_equal(ci->data, ST_DATA_NONE);
		/* Only data calls move bytes in the kernel. */
		if (ci->groups & ST_G_KCOPY)
			assert_int_not_equal(ci->data, ST_DATA_NONE);
	}
}

static void test_may_fail_with(void **state)
{
	(void)state;
	assert_true(st_call_may_fail_with(ST_FN_connect, ECONNREFUSED));
	assert_true(st_call_may_fail_with(ST_FN_connect, EINPROGRESS));
	assert_true(st_call_may_fail_with(ST_FN_connect, EINTR));
	assert_false(st_call_may_fail_with(ST_FN_connect, ENOENT));
	assert_true(st_call_may_fail_with(ST_FN_bind, ENOENT));
	assert_true(st_call_may_fail_with(ST_FN_recv, EWOULDBLOCK));
	assert_true(st_call_may_fail_with(ST_FN___recv_chk, ECONNRESET));
	assert_true(st_call_may_fail_with(ST_FN_send, EPIPE));
	assert_false(st_call_may_fail_with(ST_FN_recv, EPIPE));
	assert_false(st_call_may_fail_with(ST_FN_close, ECONNREFUSED));
	assert_false(st_call_may_fail_with(ST_FN_connect, 0));
	assert_false(st_call_may_fail_with(ST_FN_connect, -ECONNREFUSED));
	assert_false(st_call_may_fail_with(ST_FN_COUNT, ECONNREFUSED));

	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		const struct st_call_info *ci = st_call_info((enum st_fn)i);

		/* Every call can fail somehow, with errnos that have names. */
		assert_non_null(ci->errnos);
		assert_true(ci->errnos[0] != 0);
		for (const short *e = ci->errnos; *e; e++) {
			assert_true(st_call_may_fail_with((enum st_fn)i, *e));
			if (!st_errno_name(*e))
				fail_msg("%s: errno %d has no name", ci->name, *e);
		}
	}
}

static void test_groups_table(void **state)
{
	unsigned all_calls = 0;
	size_t n = 0;
	bool seen_setup = false, seen_send = false, seen_recv = false;

	(void)state;
	for (unsigned i = 0; i < ST_FN_COUNT; i++)
		all_calls |= st_call_info((enum st_fn)i)->groups;
	for (; st_groups[n].name; n++) {
		assert_true(st_groups[n].mask != 0);
		/* Every group names at least one call. */
		assert_true(st_groups[n].mask & all_calls);
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(st_groups[n].name, st_groups[j].name);
		/* A group never shadows a call of the same name. */
		assert_int_equal(st_call_by_name(st_groups[n].name), ST_FN_COUNT);
		if (strcmp(st_groups[n].name, "setup") == 0) {
			seen_setup = true;
			assert_int_equal(st_groups[n].mask, ST_G_SETUP);
		} else if (strcmp(st_groups[n].name, "sends") == 0) {
			seen_send = true;
			assert_int_equal(st_groups[n].mask, ST_G_SEND);
		} else if (strcmp(st_groups[n].name, "receives") == 0) {
			seen_recv = true;
			assert_int_equal(st_groups[n].mask, ST_G_RECV);
		} else if (strcmp(st_groups[n].name, "all") == 0) {
			assert_int_equal(st_groups[n].mask & all_calls, all_calls);
		}
		assert_true(n < 64);
	}
	assert_int_equal(st_groups[n].mask, 0);
	assert_true(n >= 3);
	assert_true(seen_setup);
	assert_true(seen_send);
	assert_true(seen_recv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fn_named),
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_bases),
		cmocka_unit_test(test_groups_and_data),
		cmocka_unit_test(test_may_fail_with),
		cmocka_unit_test(test_groups_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
