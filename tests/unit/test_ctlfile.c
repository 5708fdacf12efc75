/* ctlfile: where control files go, their names, the directory checks
 * that keep other users out, and the layout both sides rely on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ctlfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_dir_candidates(void **state)
{
	char out[PATH_MAX], xdg[] = "/tmp/st-ctl-xdg.XXXXXX";
	uid_t uid = geteuid();
	(void)state;

	/* SOCKTRACE_CTL=DIR: the only candidate. */
	assert_true(st_ctl_dir_path(0, out, sizeof(out), "/srv/ctl", NULL, uid));
	assert_string_equal(out, "/srv/ctl");
	assert_false(st_ctl_dir_path(1, out, sizeof(out), "/srv/ctl", NULL, uid));
	assert_false(st_ctl_dir_path(0, out, sizeof(out), "off", NULL, uid));
	assert_false(st_ctl_dir_path(0, out, sizeof(out), "relative", NULL, uid));

	/* Without a usable $XDG_RUNTIME_DIR: tmpfs first, then /tmp. */
	assert_true(st_ctl_dir_path(0, out, sizeof(out), NULL, NULL, 1234));
	assert_string_equal(out, "/dev/shm/socktrace-ctl-1234");
	assert_true(st_ctl_dir_path(1, out, sizeof(out), NULL, NULL, 1234));
	assert_string_equal(out, "/tmp/socktrace-ctl-1234");
	assert_false(st_ctl_dir_path(2, out, sizeof(out), NULL, NULL, 1234));
	/* Not ours, or not there: not used. */
	assert_true(st_ctl_dir_path(0, out, sizeof(out), NULL, "/nonexistent", 1234));
	assert_string_equal(out, "/dev/shm/socktrace-ctl-1234");
	assert_true(st_ctl_dir_path(0, out, sizeof(out), NULL, "relative/dir", 1234));
	assert_string_equal(out, "/dev/shm/socktrace-ctl-1234");

	/* A directory of ours: the session's. */
	assert_non_null(mkdtemp(xdg));
	assert_true(st_ctl_dir_path(0, out, sizeof(out), NULL, xdg, uid));
	assert_true(strncmp(out, xdg, strlen(xdg)) == 0);
	assert_string_equal(out + strlen(xdg), "/socktrace");
	assert_false(st_ctl_dir_path(1, out, sizeof(out), NULL, xdg, uid));
	/* Someone else's is not: another uid than the owner. */
	assert_true(st_ctl_dir_path(0, out, sizeof(out), NULL, xdg, uid + 1));
	assert_true(strncmp(out, xdg, strlen(xdg)) != 0);
	rmdir(xdg);
}

static void test_dir_checks(void **state)
{
	char base[] = "/tmp/st-ctl-dirs.XXXXXX", path[PATH_MAX], link[PATH_MAX], why[PATH_MAX + 200];
	struct stat st;
	int fd;
	(void)state;

	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/ctl", base);

	/* Missing: made with mode 0700 when asked, else nothing to say. */
	assert_int_equal(st_ctl_dir_open(path, geteuid(), false, NULL, why, sizeof(why)), -1);
	assert_string_equal(why, "");
	fd = st_ctl_dir_open(path, geteuid(), true, NULL, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* Writable by others, sticky or not: refused, and said why, in the
	 * trace directory's words (dirsafe.c). Readable is not refused. */
	assert_int_equal(chmod(path, 0777), 0);
	assert_int_equal(st_ctl_dir_open(path, geteuid(), true, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "is writable by other users (mode 0777; chmod go-w)"));
	assert_int_equal(strncmp(why, "control directory ", 18), 0);
	assert_int_equal(chmod(path, 01777), 0);
	assert_int_equal(st_ctl_dir_open(path, geteuid(), true, NULL, why, sizeof(why)), -1);
	assert_int_equal(chmod(path, 0755), 0);
	fd = st_ctl_dir_open(path, geteuid(), false, &st, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	assert_true(st_ctl_dir_still(path, geteuid(), st.st_dev, st.st_ino));
	assert_false(st_ctl_dir_still(path, geteuid(), st.st_dev, st.st_ino + 1));
	assert_int_equal(chmod(path, 0770), 0);
	assert_false(st_ctl_dir_still(path, geteuid(), st.st_dev, st.st_ino));
	assert_int_equal(chmod(path, 0700), 0);

	/* Another owner: refused. */
	assert_int_equal(st_ctl_dir_open(path, geteuid() + 1, false, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "belongs to uid"));

	/* A symbolic link of our own to a good directory: followed, as for
	 * traces (another user's is refused: test_ctl_stale.py, as root). */
	snprintf(link, sizeof(link), "%s/link", base);
	assert_int_equal(symlink(path, link), 0);
	fd = st_ctl_dir_open(link, geteuid(), true, NULL, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	unlink(link);
	/* A link to a file, or a file: not a directory. */
	snprintf(link, sizeof(link), "%s/file", base);
	fd = open(link, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(st_ctl_dir_open(link, geteuid(), true, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "is not a directory"));

	unlink(link);
	rmdir(path);
	rmdir(base);
}

static void test_names(void **state)
{
	char name[32];
	int pid = 0;
	(void)state;

	st_ctl_file_name(name, sizeof(name), 4242);
	assert_string_equal(name, "4242.ctl");
	assert_true(st_ctl_parse_name(name, &pid));
	assert_int_equal(pid, 4242);
	assert_false(st_ctl_parse_name("4242.ctl.tmp", &pid));
	assert_false(st_ctl_parse_name("04242.ctl", &pid));
	assert_false(st_ctl_parse_name("-1.ctl", &pid));
	assert_false(st_ctl_parse_name("x.ctl", &pid));
	assert_false(st_ctl_parse_name(".", &pid));
}

static void test_layout(void **state)
{
	(void)state;
	/* Page 0 is the shim's st_hot: one page, fault_fns first (fault.h's
	 * st_fault_fns is an alias of its start), the rest page-aligned. */
	assert_int_equal(sizeof(struct st_ctl_hot), ST_CTL_PAGE);
	assert_int_equal(offsetof(struct st_ctl_hot, fault_fns), 0);
	assert_int_equal(offsetof(struct st_ctl_file, req) % ST_CTL_PAGE, 0);
	assert_int_equal(offsetof(struct st_ctl_file, state) % ST_CTL_PAGE, 0);
	assert_int_equal(sizeof(struct st_ctl_file) % ST_CTL_PAGE, 0);
	assert_true(ST_CTL_TRACE_DIR_MAX >= 1024);
	assert_string_equal(st_ctl_op_name(ST_CTL_OP_DISABLE), "disable");
	assert_string_equal(st_ctl_op_name((enum st_ctl_op)99), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_candidates),
		cmocka_unit_test(test_dir_checks),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
