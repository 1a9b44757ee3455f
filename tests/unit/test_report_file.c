/* Reports named whole (reporters/report_file.h): a new report and a
 * replaced one end under their name with what was written, a failed one
 * leaves neither a file nor a temporary. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "report_file.h"
#include "test_files.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tg-report-file-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/results.json", dir);
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[400];

	(void)state;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name), unlink(p);
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

/* How many names the folder holds. */
static size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static int write_report(const char *text, int rc)
{
	char tmp[256];
	size_t before = entries();
	int fd = tg_report_open(path, tmp, sizeof tmp);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(entries(), before); /* unnamed while written: a kill now leaves nothing */
	return tg_report_commit(tmp, path, rc);
}

static void assert_file(const char *want)
{
	char *got = tg_test_read(path, NULL);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	assert_int_equal(entries(), 1); /* no temporary beside it */
}

static void test_new_report_named(void **state)
{
	(void)state;
	assert_int_equal(write_report("{\"a\":1}", 0), 0);
	assert_file("{\"a\":1}");
}

static void test_old_report_replaced(void **state)
{
	(void)state;
	assert_true(tg_test_write(path, "old"));
	assert_int_equal(write_report("new", 0), 0);
	assert_file("new");
}

static void test_failed_report_leaves_nothing(void **state)
{
	(void)state;
	assert_int_equal(write_report("half", -EIO), -EIO);
	assert_int_equal(entries(), 0);
	assert_true(tg_test_write(path, "old"));
	assert_int_equal(write_report("half", -ENOSPC), -ENOSPC);
	assert_file("old");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_report_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_report_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_report_leaves_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
