/* Function selectors against the real example binaries (examples/build.sh):
 *   blocking-server        legacy mangling
 *   blocking-tasks, hard   v0 mangling, fat LTO (generics spelled in symbols)
 * Names are matched simplified (no hashes, no ::<generics>), one per address,
 * and every offset is checked against the code itself: the bytes at the file
 * offset must be the bytes the section headers map at the symbol's address.
 * A missing example binary skips its test with a message. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fn_sites.h"
#include "poll_sites.h"

#define EXAMPLES TG_SOURCE_DIR "/examples/target"
#define SERVER EXAMPLES "/release/blocking-server"
#define TASKS_HARD EXAMPLES "/v0-lto/release-lto/blocking-tasks"

static void need(const char *path)
{
	if (access(path, R_OK) != 0) {
		print_message("skipped: %s is missing (build it: cd examples && ./build.sh)\n", path);
		skip();
	}
}

/* The bytes the section headers place at ADDR (not the program headers,
 * which is what the code under test uses). */
static size_t section_bytes(Elf *elf, uint64_t addr, unsigned char *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    addr < sh.sh_addr || addr >= sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return 0;
		n = sh.sh_addr + sh.sh_size - addr;
		n = n < len ? n : len;
		memcpy(buf, (unsigned char *)d->d_buf + (addr - sh.sh_addr), n);
		return n;
	}
	return 0;
}

/* Every site's offset holds its function's first bytes. */
static void assert_offsets_point_into_code(const char *exe, const struct tg_fn_sites *s)
{
	int fd = open(exe, O_RDONLY);
	Elf *elf;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	for (size_t i = 0; i < s->n; i++) {
		unsigned char want[16], got[16];
		size_t n = section_bytes(elf, s->v[i].addr, want, sizeof(want));

		assert_true(n > 0);
		assert_int_equal(pread(fd, got, n, (off_t)s->v[i].offset), (ssize_t)n);
		assert_memory_equal(got, want, n);
		if (i > 0) /* sorted, one per address */
			assert_true(s->v[i].addr > s->v[i - 1].addr);
	}
	elf_end(elf);
	close(fd);
}

static bool has_name(const struct tg_fn_sites *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return true;
	return false;
}

static void find(const char *exe, const char *glob, size_t max, struct tg_fn_sites *s)
{
	char err[512] = "";
	int r = tg_find_functions(exe, glob, max, s, err, sizeof(err));

	if (r)
		print_message("%s\n", err);
	assert_int_equal(r, 0);
}

static void exact_name(const char *exe)
{
	struct tg_fn_sites s;

	need(exe);
	find(exe, "blocking_kinds::burn_cpu", 512, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].name, "blocking_kinds::burn_cpu");
	assert_true(s.v[0].addr != 0 && s.v[0].offset != 0);
	assert_offsets_point_into_code(exe, &s);
	tg_fn_sites_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
}

static void test_exact_legacy(void **state)
{
	(void)state;
	exact_name(SERVER);
}

static void test_exact_v0_lto(void **state)
{
	(void)state;
	exact_name(TASKS_HARD);
}

/* The blocking-kinds crate's functions, all of them simplified names. */
static void crate_glob(const char *exe, size_t min)
{
	struct tg_fn_sites s;

	need(exe);
	find(exe, "blocking_kinds::*", 512, &s);
	assert_true(s.n >= min);
	assert_true(has_name(&s, "blocking_kinds::burn_cpu"));
	assert_true(has_name(&s, "blocking_kinds::sleepy"));
	assert_true(has_name(&s, "blocking_kinds::lock_shared"));
	for (size_t i = 0; i < s.n; i++) {
		assert_true(strncmp(s.v[i].name, "blocking_kinds::", 16) == 0);
		assert_null(strstr(s.v[i].name, "::h")); /* no hash segment */
		assert_null(strstr(s.v[i].name, "::<"));
	}
	assert_offsets_point_into_code(exe, &s);
	tg_fn_sites_free(&s);

	find(exe, "blocking_kinds::*", 2, &s); /* capped */
	assert_int_equal(s.n, 2);
	assert_offsets_point_into_code(exe, &s);
	tg_fn_sites_free(&s);
}

static void test_glob_legacy(void **state)
{
	(void)state;
	crate_glob(SERVER, 4);
}

static void test_glob_v0_lto(void **state)
{
	(void)state;
	crate_glob(TASKS_HARD, 3);
}

/* v0 symbols spell raw::poll::<T, S>: without the generics every instance
 * has the same name, and there are as many as poll-site discovery finds. */
static void test_generic_instances_v0_lto(void **state)
{
	struct tg_poll_sites sites;
	struct tg_fn_sites s;
	char err[512];

	(void)state;
	need(TASKS_HARD);
	assert_int_equal(tg_find_poll_sites(TASKS_HARD, &sites, err, sizeof(err)), 0);
	find(TASKS_HARD, "tokio::runtime::task::raw::poll", 512, &s);
	assert_int_equal(s.n, sites.n);
	for (size_t i = 0; i < s.n; i++)
		assert_string_equal(s.v[i].name, "tokio::runtime::task::raw::poll");
	assert_offsets_point_into_code(TASKS_HARD, &s);
	tg_fn_sites_free(&s);
	tg_poll_sites_free(&sites);
}

/* What the scheduling-delay probes attach to, in both manglings. */
static void test_waker_functions(void **state)
{
	const char *exes[] = { SERVER, TASKS_HARD };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct tg_fn_sites s;

		need(exes[i]);
		find(exes[i], "tokio::runtime::task::waker::wake_by_*", 512, &s);
		assert_true(has_name(&s, "tokio::runtime::task::waker::wake_by_val"));
		assert_true(has_name(&s, "tokio::runtime::task::waker::wake_by_ref"));
		assert_offsets_point_into_code(exes[i], &s);
		tg_fn_sites_free(&s);
	}
}

static void test_no_match(void **state)
{
	struct tg_fn_sites s;

	(void)state;
	need(SERVER);
	find(SERVER, "no_such_crate::*", 512, &s);
	assert_int_equal(s.n, 0);
	find(SERVER, "blocking_kinds::burn_cpu_", 512, &s); /* a glob is anchored */
	assert_int_equal(s.n, 0);
	tg_fn_sites_free(&s);
}

static void test_missing_file(void **state)
{
	const char *path = "/nonexistent/tg \"q\" <a&b>%:x,y";
	struct tg_fn_sites s = { (void *)1, 7 };
	char err[512] = "";

	(void)state;
	assert_int_equal(tg_find_functions(path, "*", 512, &s, err, sizeof(err)), -ENOENT);
	assert_int_equal(s.n, 0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "cannot open"));
	assert_null(strchr(err, '\n'));
}

static void test_not_elf(void **state)
{
	char path[] = "/tmp/tg-fn-sites-XXXXXX";
	struct tg_fn_sites s;
	char err[512] = "";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(tg_find_functions(path, "*", 512, &s, err, sizeof(err)), -ENOEXEC);
	assert_int_equal(s.n, 0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not an ELF"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_legacy),
		cmocka_unit_test(test_exact_v0_lto),
		cmocka_unit_test(test_glob_legacy),
		cmocka_unit_test(test_glob_v0_lto),
		cmocka_unit_test(test_generic_instances_v0_lto),
		cmocka_unit_test(test_waker_functions),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_not_elf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
