/* Poll-site discovery against the real example binaries (examples/build.sh):
 *   blocking-server        legacy mangling, DWARF           -> named by "dwarf"
 *   the same, debug info stripped (objcopy --strip-debug)    -> "drop_in_place"
 *   blocking-tasks, hard   v0 mangling, fat LTO, DWARF       -> "dwarf"
 *   the same, debug info stripped                            -> "symbol"
 *   blocking-tasks, legacy, debug stripped; blocking-server under fat LTO
 *     (only when built: build.sh cargo --profile release-lto), debug stripped
 *   fully stripped (objcopy --strip-all)                     -> "vtable", checked
 *     against the same binary's symbols
 *   stripped without vtables, not Tokio, not ELF, missing    -> errors
 * A missing example binary skips its test with a message. Stripped copies go
 * to a temporary directory, made by objcopy (binutils). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "poll_sites.h"
#include "test_files.h"
#include "poll_probe.h"

#define EXAMPLES TG_SOURCE_DIR "/examples/target"
#define SERVER EXAMPLES "/release/blocking-server"
#define SERVER_LTO EXAMPLES "/release-lto/blocking-server"
#define TASKS EXAMPLES "/release/blocking-tasks"
#define TASKS_HARD EXAMPLES "/v0-lto/release-lto/blocking-tasks"
#define TASKS_DEFAULT EXAMPLES "/builds/default/blocking-tasks" /* examples/build-matrix.sh */
#define TASKS_LINES EXAMPLES "/builds/lines/blocking-tasks"

extern char **environ;

static char tmpdir[64];

/* ---- helpers */

static void need(const char *path)
{
	if (access(path, R_OK) != 0) {
		print_message("skipped: %s is missing (build it: cd examples && ./build.sh)\n", path);
		skip();
	}
}

/* Runs argv, returns its exit status or -1. */
static int run(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* A copy of SRC made by TOOL FLAG (objcopy --strip-debug or --strip-all)
 * in the temporary directory, named NAME. Skips when the tool is missing. */
static const char *stripped_copy(const char *tool, const char *flag, const char *src, const char *name)
{
	static char out[128];
	char *argv[] = { (char *)tool, (char *)flag, (char *)src, out, NULL };

	need(src);
	snprintf(out, sizeof(out), "%s/%s", tmpdir, name);
	if (run(argv) != 0) {
		print_message("skipped: %s %s %s failed (binutils installed?)\n", tool, flag, src);
		skip();
	}
	return out;
}

static void find_ok(const char *exe, struct tg_poll_sites *s)
{
	char err[512] = "";
	int r = tg_find_poll_sites(exe, s, err, sizeof(err));

	if (r)
		print_message("tg_find_poll_sites(%s) = %d: %s\n", exe, r, err);
	assert_int_equal(r, 0);
	assert_true(s->n > 0);
}

/* The runtime site named NAME, or NULL. */
static const struct tg_poll_site *runtime_site(const struct tg_poll_sites *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == TG_SITE_RUNTIME && strcmp(s->v[i].task_name, name) == 0)
			return &s->v[i];
	return NULL;
}

static const struct tg_poll_site *site_at(const struct tg_poll_sites *s, uint64_t addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].addr == addr)
			return &s->v[i];
	return NULL;
}

/* NAME is JOINED, or one of its "a|b" alternatives. */
static bool names_include(const char *joined, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = joined; p; p = strchr(p, '|'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == 0 || p[n] == '|'))
			return true;
	return false;
}

static void expect_tasks(const struct tg_poll_sites *s, const char *const *names)
{
	for (; *names; names++) {
		if (!runtime_site(s, *names))
			print_message("no runtime site named %s\n", *names);
		assert_non_null(runtime_site(s, *names));
	}
}

/* Kind follows S: the blocking pool's scheduler, or a runtime's. */
static void check_kinds(const struct tg_poll_sites *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct tg_poll_site *p = &s->v[i];

		assert_non_null(p->scheduler);
		if (p->kind == TG_SITE_BLOCKING) {
			assert_non_null(strstr(p->scheduler, "BlockingSchedule"));
			continue;
		}
		assert_int_equal(p->kind, TG_SITE_RUNTIME);
		if (!strstr(p->scheduler, "multi_thread") && !strstr(p->scheduler, "current_thread"))
			fail_msg("site %s: scheduler %s", p->task_name, p->scheduler);
	}
}

/* offset == addr - p_vaddr + p_offset of the PT_LOAD mapping addr, read
 * here without libelf; the byte there opens a function (push %rbp: the
 * examples keep frame pointers; or endbr64). */
static void check_offsets(const char *exe, const struct tg_poll_sites *s)
{
	int fd = open(exe, O_RDONLY);
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &eh, sizeof(eh), 0), sizeof(eh));
	assert_memory_equal(eh.e_ident, ELFMAG, SELFMAG);
	for (size_t i = 0; i < s->n; i++) {
		bool mapped = false;
		unsigned char b = 0;

		for (int k = 0; k < eh.e_phnum && !mapped; k++) {
			assert_int_equal(pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)k * eh.e_phentsize)),
					 sizeof(ph));
			if (ph.p_type != PT_LOAD || s->v[i].addr < ph.p_vaddr || s->v[i].addr >= ph.p_vaddr + ph.p_filesz)
				continue;
			mapped = true;
			assert_int_equal(s->v[i].offset, s->v[i].addr - ph.p_vaddr + ph.p_offset);
			assert_true(ph.p_flags & PF_X);
		}
		assert_true(mapped);
		assert_int_equal(pread(fd, &b, 1, (off_t)s->v[i].offset), 1);
		if (b != 0x55 && b != 0xf3)
			fail_msg("site %s at %#llx starts with %#x", s->v[i].task_name,
				 (unsigned long long)s->v[i].addr, b);
	}
	close(fd);
}

/* "1.24.2" when build.sh used Debian's crates (offline), some version otherwise. */
static void check_tokio_version(const struct tg_poll_sites *s)
{
	char mode[16] = "";
	FILE *f = fopen(EXAMPLES "/.tg-lock-mode", "r");

	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
	}
	assert_true(s->tokio_version[0] != 0);
	if (strncmp(mode, "offline ", 8) == 0)
		assert_string_equal(s->tokio_version, "1.24.2");
}

static void check_common(const char *exe, const struct tg_poll_sites *s, const char *named_by)
{
	assert_true(s->has_symtab);
	for (size_t i = 0; i < s->n; i++) {
		assert_non_null(s->v[i].symbol);
		assert_non_null(s->v[i].task_name);
		/* "dwarf+drop_in_place": DWARF's name, its {impl#N} read from the vtable's */
		if (named_by && strncmp(s->v[i].named_by, named_by, strlen(named_by)) != 0)
			fail_msg("site %#llx (%s) named by %s, not %s", (unsigned long long)s->v[i].addr,
				 s->v[i].symbol, s->v[i].named_by, named_by);
		for (size_t j = 0; j < i; j++)
			assert_true(s->v[i].addr != s->v[j].addr);
	}
	check_kinds(s);
	check_offsets(exe, s);
}

/* Without DWARF, every site keeps its address and kind, and each runtime
 * site's name is the DWARF one, or an "a|b" naming it among the candidates
 * when merged drop glue cannot tell (never a wrong name alone). At least
 * MIN_EXACT percent must be exact. */
static void compare_with_dwarf(const struct tg_poll_sites *dw, const struct tg_poll_sites *nd, int min_exact)
{
	size_t runtime = 0, exact = 0;

	assert_int_equal(nd->n, dw->n);
	for (size_t i = 0; i < dw->n; i++) {
		const struct tg_poll_site *a = &dw->v[i], *b = site_at(nd, a->addr);

		assert_non_null(b);
		assert_int_equal(b->kind, a->kind);
		if (a->kind != TG_SITE_RUNTIME)
			continue;
		runtime++;
		exact += strcmp(a->task_name, b->task_name) == 0;
		if (!names_include(b->task_name, a->task_name))
			fail_msg("site %#llx: DWARF says %s, the fallback %s", (unsigned long long)a->addr,
				 a->task_name, b->task_name);
	}
	print_message("%zu of %zu runtime sites named exactly without DWARF\n", exact, runtime);
	assert_true(exact * 100 >= runtime * (size_t)min_exact);
}

static const char *const server_tasks[] = {
	"blocking_server::cpu_task", "blocking_server::sleep_task", "blocking_server::file_task",
	"blocking_server::mutex_task", "blocking_server::cpu_ok_task", "blocking_server::sleep_ok_task",
	"blocking_server::file_ok_task", "blocking_server::mutex_ok_task", NULL,
};

/* The server's connection task is its framework's (hyper's, axum's): a
 * runtime site named by a library path. */
static void expect_connection_task(const struct tg_poll_sites *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].kind == TG_SITE_RUNTIME && (strncmp(s->v[i].task_name, "hyper::", 7) == 0 ||
							 strncmp(s->v[i].task_name, "axum::", 6) == 0))
			return;
	fail_msg("no runtime site named after hyper or axum");
}

/* No site keeps a name that only one kind of build can spell. */
static void check_build_independent(const struct tg_poll_sites *s)
{
	static const char *const build_specific[] = { "{async_block", "{async_fn", "{closure", "{{closure}}",
						      "_env#", "{impl#", NULL };

	for (size_t i = 0; i < s->n; i++)
		for (const char *const *b = build_specific; *b; b++)
			if (strstr(s->v[i].task_name, *b))
				fail_msg("site %#llx named %s", (unsigned long long)s->v[i].addr, s->v[i].task_name);
}

static const char *const tasks_tasks[] = {
	"blocking_tasks::cpu_task", "blocking_tasks::sleep_task", "blocking_tasks::mutex_task",
	"blocking_tasks::cpu_ok_task", "blocking_tasks::sleep_ok_task", NULL,
};

/* ---- blocking-server: legacy mangling */

static void test_server_dwarf(void **state)
{
	struct tg_poll_sites s;

	(void)state;
	need(SERVER);
	find_ok(SERVER, &s);
	assert_true(s.n >= 20);
	assert_true(s.has_dwarf);
	assert_true(s.frame_pointers); /* built with -C force-frame-pointers=yes */
	check_common(SERVER, &s, "dwarf");
	expect_tasks(&s, server_tasks);
	expect_connection_task(&s);
	check_build_independent(&s);
	for (size_t i = 0; i < s.n; i++) {
		bool blocking_task = strstr(s.v[i].future_type, "::blocking::task::BlockingTask<") != NULL;

		assert_int_equal(blocking_task, s.v[i].kind == TG_SITE_BLOCKING);
	}
	check_tokio_version(&s);
	tg_poll_sites_free(&s);
}

static void test_server_no_debug(void **state)
{
	const char *nd = stripped_copy("objcopy", "--strip-debug", SERVER, "server-nodebug");
	struct tg_poll_sites dw, s;
	size_t by_glue = 0;

	(void)state;
	find_ok(SERVER, &dw);
	find_ok(nd, &s);
	assert_false(s.has_dwarf);
	/* from the panic locations in .rodata, not DWARF: the same version */
	assert_string_equal(s.tokio_version, dw.tokio_version);
	check_common(nd, &s, NULL);
	for (size_t i = 0; i < s.n; i++)
		by_glue += strcmp(s.v[i].named_by, "drop_in_place") == 0;
	assert_true(by_glue * 4 >= s.n * 3);
	compare_with_dwarf(&dw, &s, 60);
	/* legacy {{closure}} simplifies like DWARF's {async_fn_env#0} */
	expect_tasks(&s, (const char *const[]){ "blocking_server::file_task", "blocking_server::mutex_task",
			 "blocking_server::cpu_ok_task", "blocking_server::sleep_ok_task",
			 "blocking_server::file_ok_task", "blocking_server::mutex_ok_task", NULL });
	expect_connection_task(&s);
	tg_poll_sites_free(&dw);
	tg_poll_sites_free(&s);
}

/* fat LTO with legacy names: merged drop glue keeps one name only */
static void test_server_lto_no_debug(void **state)
{
	const char *nd;
	struct tg_poll_sites dw, s;

	(void)state;
	need(SERVER_LTO);
	nd = stripped_copy("objcopy", "--strip-debug", SERVER_LTO, "server-lto-nodebug");
	find_ok(SERVER_LTO, &dw);
	check_common(SERVER_LTO, &dw, "dwarf");
	find_ok(nd, &s);
	check_common(nd, &s, NULL);
	compare_with_dwarf(&dw, &s, 60);
	tg_poll_sites_free(&dw);
	tg_poll_sites_free(&s);
}

/* ---- blocking-tasks */

static void test_tasks_legacy_no_debug(void **state)
{
	const char *nd = stripped_copy("objcopy", "--strip-debug", TASKS, "tasks-nodebug");
	struct tg_poll_sites dw, s;

	(void)state;
	find_ok(TASKS, &dw);
	check_common(TASKS, &dw, "dwarf");
	expect_tasks(&dw, tasks_tasks);
	check_build_independent(&dw);
	find_ok(nd, &s);
	check_common(nd, &s, NULL);
	compare_with_dwarf(&dw, &s, 50);
	tg_poll_sites_free(&dw);
	tg_poll_sites_free(&s);
}

static void test_tasks_v0_lto_dwarf(void **state)
{
	struct tg_poll_sites s;
	bool v0 = false;

	(void)state;
	need(TASKS_HARD);
	find_ok(TASKS_HARD, &s);
	assert_true(s.has_dwarf);
	assert_true(s.frame_pointers); /* kept through fat LTO */
	check_common(TASKS_HARD, &s, "dwarf");
	expect_tasks(&s, tasks_tasks);
	for (size_t i = 0; i < s.n; i++)
		v0 |= strncmp(s.v[i].symbol, "_R", 2) == 0;
	assert_true(v0);
	/* the worker launcher runs on the blocking pool */
	for (size_t i = 0; i < s.n; i++)
		if (strstr(s.v[i].task_name, "launch"))
			assert_int_equal(s.v[i].kind, TG_SITE_BLOCKING);
	check_tokio_version(&s);
	tg_poll_sites_free(&s);
}

static void test_tasks_v0_lto_no_debug(void **state)
{
	const char *nd = stripped_copy("objcopy", "--strip-debug", TASKS_HARD, "tasks-hard-nodebug");
	struct tg_poll_sites dw, s;

	(void)state;
	find_ok(TASKS_HARD, &dw);
	find_ok(nd, &s);
	assert_false(s.has_dwarf);
	check_common(nd, &s, "symbol");
	expect_tasks(&s, tasks_tasks);
	compare_with_dwarf(&dw, &s, 100);
	tg_poll_sites_free(&dw);
	tg_poll_sites_free(&s);
}

/* ---- errors */

static void expect_error(const char *exe, int want, const char *msg_part)
{
	struct tg_poll_sites s;
	char err[512] = "";
	int r = tg_find_poll_sites(exe, &s, err, sizeof(err));

	print_message("%s: %d %s\n", exe, r, err);
	if (want)
		assert_int_equal(r, want);
	else
		assert_true(r < 0);
	assert_int_equal(s.n, 0);
	assert_null(s.v);
	assert_non_null(strstr(err, exe));
	if (msg_part)
		assert_non_null(strstr(err, msg_part));
}

/* No symbol table at all: the sites come from the task vtables. The same
 * binary with its symbols is the truth: objcopy keeps every address, so each
 * vtable site must be a raw::poll instance of it, of the same kind (runtime
 * or blocking pool, told apart without names), and the instances that tasks
 * are spawned with must all be found. */
static void check_stripped(const char *exe, const char *name, size_t min_found)
{
	struct tg_poll_sites full, bare;
	size_t runtime = 0, blocking = 0;

	need(exe);
	find_ok(exe, &full);
	find_ok(stripped_copy("objcopy", "--strip-all", exe, name), &bare);
	assert_false(bare.has_symtab);
	for (size_t i = 0; i < bare.n; i++) {
		const struct tg_poll_site *b = &bare.v[i], *f = site_at(&full, b->addr);

		if (!f)
			fail_msg("vtable site %#llx is no raw::poll of %s", (unsigned long long)b->addr, exe);
		print_message("  %#llx %-8s %s\n", (unsigned long long)b->addr,
			      b->kind == TG_SITE_BLOCKING ? "blocking" : "runtime", f->task_name);
		assert_string_equal(b->named_by, "vtable");
		assert_int_equal(b->kind, f->kind);
		assert_int_equal(b->offset, f->offset);
		runtime += b->kind == TG_SITE_RUNTIME;
		blocking += b->kind == TG_SITE_BLOCKING;
	}
	print_message("%s: %zu of %zu sites from vtables (%zu runtime, %zu blocking pool)\n", exe, bare.n,
		      full.n, runtime, blocking);
	assert_true(bare.n >= min_found);
	assert_true(runtime > 0 && blocking > 0);
	tg_poll_sites_free(&full);
	tg_poll_sites_free(&bare);
}

/* The version out of raw bytes: the first ".../tokio-1.x.y/src/" path;
 * Rust's strings end without a NUL, other crates' paths do not count. */
static void test_tokio_version_in(void **state)
{
	static const char rodata[] = "called `Option::unwrap()`/r/tokio-util-0.7.1/src/a.rs"
		"/r/tokio-1.2/x.rs/r/tokio-1./src//r/tokio-1.47.1/src/runtime/task/raw.rs"
		"/r/tokio-1.24.2/src/lib.rs";
	static const char cut[] = "/r/tokio-1.47.1/sr";
	char v[32] = "x";

	(void)state;
	tg_tokio_version_in(rodata, sizeof(rodata) - 1, v, sizeof(v));
	assert_string_equal(v, "1.47.1");
	tg_tokio_version_in(cut, sizeof(cut) - 1, v, sizeof(v));
	assert_string_equal(v, "");
	tg_tokio_version_in(rodata, sizeof(rodata) - 1, v, 4); /* does not fit */
	assert_string_equal(v, "");
	tg_tokio_version_in("", 0, v, sizeof(v));
	assert_string_equal(v, "");
}

/* A default `cargo build --release` (debuginfo stripped) and a line-tables-only
 * build: no decl_file paths, the version still found, the same as full DWARF's. */
static void test_version_without_full_dwarf(void **state)
{
	const char *const exes[] = { TASKS_DEFAULT, TASKS_LINES };
	struct tg_poll_sites dw, s;

	(void)state;
	need(TASKS);
	find_ok(TASKS, &dw);
	check_tokio_version(&dw);
	for (size_t i = 0; i < 2; i++) {
		need(exes[i]);
		find_ok(exes[i], &s);
		assert_string_equal(s.tokio_version, dw.tokio_version);
		expect_tasks(&s, tasks_tasks);
		tg_poll_sites_free(&s);
	}
	tg_poll_sites_free(&dw);
}

static void test_fully_stripped(void **state)
{
	(void)state;
	check_stripped(SERVER, "server-stripped", 10);
	check_stripped(TASKS, "tasks-stripped", 10);
}

/* Stripped, naming Tokio's sources, and no task vtable: the message says
 * what is missing and the Cargo.toml line that fixes it. tokio-guard itself
 * is such a binary: its .rodata holds the "/tokio-1." it looks for. */
static void test_stripped_without_vtables(void **state)
{
	(void)state;
	expect_error(stripped_copy("objcopy", "--strip-all", TG_BINARY_DIR "/tokio-guard", "not-tokio"),
		     -ENOENT, "no task vtable was recognized");
	expect_error(stripped_copy("objcopy", "--strip-all", TG_BINARY_DIR "/tokio-guard", "not-tokio"),
		     -ENOENT, "[profile.release] strip = \"debuginfo\"");
}

static void test_not_tokio(void **state)
{
	(void)state;
	need("/bin/true");
	expect_error("/bin/true", -ENOENT, "not a Tokio binary");
}

static void test_not_elf(void **state)
{
	char path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/notes.txt", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("tokio::runtime::task::raw::poll is not in an ELF file here\n", f);
	fclose(f);
	expect_error(path, 0, NULL);
}

static void test_missing(void **state)
{
	(void)state;
	expect_error(TG_BINARY_DIR "/no-such-binary", -ENOENT, "No such file");
}

/* ---- temporary directory */

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tg-poll-sites-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	return tg_test_rm_rf(tmpdir) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_dwarf),
		cmocka_unit_test(test_server_no_debug),
		cmocka_unit_test(test_server_lto_no_debug),
		cmocka_unit_test(test_tasks_legacy_no_debug),
		cmocka_unit_test(test_tasks_v0_lto_dwarf),
		cmocka_unit_test(test_tasks_v0_lto_no_debug),
		cmocka_unit_test(test_tokio_version_in),
		cmocka_unit_test(test_version_without_full_dwarf),
		cmocka_unit_test(test_fully_stripped),
		cmocka_unit_test(test_stripped_without_vtables),
		cmocka_unit_test(test_not_tokio),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
