/* Symbolization of this very (PIE) test binary, of libc, of a process that
 * has exited, and of the blocking-server example when it has been built. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "names.h"
#include "symbolize.h"

#define BLOCKING_SERVER TG_SOURCE_DIR "/examples/target/release/blocking-server"

static volatile int sink;

#ifdef __clang__
#define NOINLINE __attribute__((noinline))
#else /* noclone: a .constprop clone would not be the address we take */
#define NOINLINE __attribute__((noinline, noclone))
#endif

/* Each function sits on one line, so that whatever instruction an address
 * lands on, its line is the one __LINE__ names. */
NOINLINE static uint64_t marker(int *line) { *line = __LINE__; sink++; return (uint64_t)__builtin_return_address(0); }

NOINLINE static uint64_t get_ra(void) { sink++; return (uint64_t)__builtin_return_address(0); }

/* the store to sink after the call keeps it from becoming a tail call */
static inline __attribute__((always_inline)) uint64_t inlined_fn(int *line) { uint64_t r; *line = __LINE__; r = get_ra(); sink++; return r; }

NOINLINE static uint64_t outer_fn(int *in_line, int *out_line) { uint64_t r; *out_line = __LINE__; r = inlined_fn(in_line); sink++; return r; }

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static struct tg_symbolizer *self_symbolizer(void)
{
	struct tg_symbolizer *sz = tg_symbolizer_new(getpid());
	assert_non_null(sz);
	return sz;
}

static void test_function_in_this_file(void **state)
{
	struct tg_symbolizer *sz = self_symbolizer();
	struct tg_frame f[8];
	int marker_line = 0;

	int call_line = __LINE__; uint64_t ra = marker(&marker_line);

	assert_int_equal(tg_symbolize(sz, (uint64_t)(uintptr_t)&marker, false, f, 8), 1);
	assert_string_equal(f[0].function, "marker");
	assert_true(ends_with(f[0].file, "/tests/unit/test_symbolize.c"));
	assert_int_equal(f[0].file[0], '/');
	assert_int_equal(f[0].line, marker_line);
	assert_int_equal(f[0].addr, (uint64_t)(uintptr_t)&marker);
	assert_false(f[0].inlined);
	assert_true(f[0].own); /* a source path of ours decides, not the crate */

	/* the return address is the instruction after the call: retaddr
	 * finds the call's own line */
	assert_int_equal(tg_symbolize(sz, ra, true, f, 8), 1);
	assert_string_equal(f[0].function, "test_function_in_this_file");
	assert_true(ends_with(f[0].file, "test_symbolize.c"));
	assert_int_equal(f[0].line, call_line);
	assert_int_equal(f[0].addr, ra);
	tg_symbolizer_free(sz);
}

static void test_inlined_frames(void **state)
{
	struct tg_symbolizer *sz = self_symbolizer();
	struct tg_frame f[8];
	int in_line = 0, out_line = 0;
	uint64_t ra = outer_fn(&in_line, &out_line);

	assert_int_equal(tg_symbolize(sz, ra, true, f, 8), 2);
	assert_string_equal(f[0].function, "inlined_fn");
	assert_int_equal(f[0].line, in_line);
	assert_true(f[0].inlined);
	assert_string_equal(f[1].function, "outer_fn");
	assert_int_equal(f[1].line, out_line);
	assert_true(ends_with(f[1].file, "test_symbolize.c"));
	assert_false(f[1].inlined);

	/* MAX cuts the outer frames off, never the innermost */
	assert_int_equal(tg_symbolize(sz, ra, true, f, 1), 1);
	assert_string_equal(f[0].function, "inlined_fn");
	tg_symbolizer_free(sz);
}

static void test_libc(void **state)
{
	struct tg_symbolizer *sz = self_symbolizer();
	struct tg_frame f[8];
	uint64_t addr = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "write");
	assert_true(addr != 0);

	int n = tg_symbolize(sz, addr, false, f, 8);
	assert_true(n >= 1);
	assert_non_null(strstr(f[n - 1].function, "write"));
	assert_false(f[0].own);
	/* a return address inside it works too */
	assert_true(tg_symbolize(sz, addr + 4, true, f, 8) >= 1);
	assert_non_null(f[0].function);
	tg_symbolizer_free(sz);
}

/* At a function's first instruction its CFI says CFA = rsp + 8 and the
 * return address is the word at sp: what the stack copy must give back. */
static void test_leaf_return_address(void **state)
{
	struct tg_symbolizer *sz = self_symbolizer();
	uint64_t entry = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "write");
	uint8_t stack[256] = { 0 };
	uint64_t want = 0x5566778899aabbccull, ra = 0, sp = 0x7ffc00001000ull;

	memcpy(stack, &want, sizeof(want));
	assert_int_equal(tg_leaf_return_address(sz, entry, sp, stack, sizeof(stack), &ra), 0);
	assert_true(ra == want);
	/* No stack copy, too short a copy, or an address in no module: nothing. */
	assert_int_not_equal(tg_leaf_return_address(sz, entry, 0, stack, sizeof(stack), &ra), 0);
	assert_int_not_equal(tg_leaf_return_address(sz, entry, sp, stack, 4, &ra), 0);
	assert_int_not_equal(tg_leaf_return_address(sz, 0x10, sp, stack, sizeof(stack), &ra), 0);
	tg_symbolizer_free(sz);
}

static void test_cache_and_unknown(void **state)
{
	struct tg_symbolizer *sz = self_symbolizer();
	struct tg_frame a, b;
	int line;
	uint64_t addr = (uint64_t)(uintptr_t)&marker;
	(void)marker(&line);

	assert_int_equal(tg_symbolize(sz, addr, false, &a, 1), 1);
	assert_int_equal(tg_symbolize(sz, addr, false, &b, 1), 1);
	assert_ptr_equal(a.function, b.function); /* the cached strings */
	assert_ptr_equal(a.file, b.file);

	assert_int_equal(tg_symbolize(sz, 0x1000, false, &a, 1), 1);
	assert_string_equal(a.function, "[unknown]");
	assert_null(a.file);
	assert_int_equal(a.line, 0);
	assert_false(a.own);

	char *heap = malloc(64);
	assert_int_equal(tg_symbolize(sz, (uint64_t)(uintptr_t)heap, true, &a, 1), 1);
	assert_string_equal(a.function, "[unknown]");
	free(heap);

	assert_int_equal(tg_symbolize(sz, addr, false, &a, 0), 0);
	assert_int_equal(tg_symbolize(NULL, addr, false, &a, 1), 0);
	tg_symbolizer_free(sz);
	tg_symbolizer_free(NULL);
}

/* A library loaded after the snapshot is found after a refresh. */
static void test_refresh(void **state)
{
	static const char *const libs[][2] = {
		{ "libyaml-0.so.2", "yaml_parser_initialize" },
		{ "libcjson.so.1", "cJSON_Parse" },
		{ "libz.so.1", "zlibVersion" },
	};
	struct tg_symbolizer *sz = self_symbolizer();
	struct tg_frame f;
	void *h = NULL, *fn = NULL;
	const char *want = NULL;

	for (size_t i = 0; i < 3 && !h; i++) {
		if (dlopen(libs[i][0], RTLD_NOW | RTLD_NOLOAD))
			continue; /* already loaded: proves nothing */
		if ((h = dlopen(libs[i][0], RTLD_NOW)))
			fn = dlsym(h, want = libs[i][1]);
	}
	if (!h || !fn) {
		tg_symbolizer_free(sz);
		skip();
	}
	assert_int_equal(tg_symbolize(sz, (uint64_t)(uintptr_t)fn, false, &f, 1), 1);
	assert_string_equal(f.function, "[unknown]");
	assert_int_equal(tg_symbolizer_refresh(sz, getpid()), 0);
	assert_int_equal(tg_symbolize(sz, (uint64_t)(uintptr_t)fn, false, &f, 1), 1);
	assert_string_equal(f.function, want);
	assert_false(f.own);
	tg_symbolizer_free(sz);
	dlclose(h);
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n = 0;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}

/* A library whose file was deleted after it was mapped (a binary rebuilt
 * during a run looks the same): read through /proc/PID/map_files, which
 * only root may follow; others get a named [unknown]. */
static void test_deleted_library(void **state)
{
	static const char *const libs[][2] = {
		{ "/usr/lib/x86_64-linux-gnu/libcjson.so.1", "cJSON_Parse" },
		{ "/usr/lib/x86_64-linux-gnu/libz.so.1", "zlibVersion" },
		{ "/usr/lib/x86_64-linux-gnu/libyaml-0.so.2", "yaml_parser_initialize" },
	};
	char dir[] = "/tmp/tg-symbolize-XXXXXX", copy[64];
	void *h = NULL, *fn = NULL;
	const char *want = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(copy, sizeof copy, "%s/libcopy.so", dir);
	for (size_t i = 0; i < 3 && !h; i++)
		if (copy_file(libs[i][0], copy) == 0 && (h = dlopen(copy, RTLD_NOW | RTLD_LOCAL)))
			fn = dlsym(h, want = libs[i][1]);
	unlink(copy);
	rmdir(dir);
	if (!h || !fn)
		skip();

	struct tg_symbolizer *sz = self_symbolizer();
	struct tg_frame f;
	assert_int_equal(tg_symbolize(sz, (uint64_t)(uintptr_t)fn, false, &f, 1), 1);
	if (geteuid() == 0)
		assert_string_equal(f.function, want);
	else
		assert_true(strncmp(f.function, "[unknown] (libcopy.so+0x", 24) == 0);
	tg_symbolizer_free(sz);
	dlclose(h);
}

static void test_after_exit(void **state)
{
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char c;
		close(go[1]);
		_exit(read(go[0], &c, 1) < 0);
	}
	close(go[0]);
	struct tg_symbolizer *sz = tg_symbolizer_new(child);
	close(go[1]); /* the child exits */
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_non_null(sz);

	struct tg_frame f;
	int line = 0;
	(void)marker(&line);
	assert_int_equal(tg_symbolize(sz, (uint64_t)(uintptr_t)&marker, false, &f, 1), 1);
	assert_string_equal(f.function, "marker");
	assert_int_equal(f.line, line);
	uint64_t wr = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "write");
	assert_int_equal(tg_symbolize(sz, wr, false, &f, 1), 1);
	assert_non_null(strstr(f.function, "write"));
	tg_symbolizer_free(sz);

	errno = 0;
	assert_null(tg_symbolizer_new(child));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(tg_symbolizer_refresh(NULL, child), -EINVAL);
}

/* ---- the real Tokio target ---- */

/* Address of the symbol whose demangled name is WANT, as in the ELF file. */
static uint64_t elf_symbol(const char *path, const char *want, uint64_t *first_load, uint64_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	elf_version(EV_CURRENT);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	uint64_t found = 0;
	size_t nph = 0;

	*first_load = UINT64_MAX;
	if (e && elf_getphdrnum(e, &nph) == 0)
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0)
				*first_load = ph.p_vaddr;
		}
	for (Elf_Scn *scn = NULL; e && !found && (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		Elf_Data *d = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB ? elf_getdata(scn, NULL) : NULL;
		for (size_t i = 0; d && !found && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			char *name = tg_demangle(elf_strptr(e, sh.sh_link, sym.st_name));
			if (name && strcmp(name, want) == 0)
				found = sym.st_value, *size = sym.st_size;
			free(name);
		}
	}
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	return found;
}

/* Where the file offset 0 of PATH is mapped in PID. */
static uint64_t mapped_base(pid_t pid, const char *path)
{
	char maps[64], line[4096];
	uint64_t base = 0;
	snprintf(maps, sizeof maps, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(maps, "r");
	while (f && !base && fgets(line, sizeof line, f)) {
		unsigned long start, off;
		char file[4096] = "";
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %4095s", &start, &off, file) == 3 &&
		    off == 0 && strcmp(file, path) == 0)
			base = start;
	}
	if (f)
		fclose(f);
	return base;
}

static bool wait_ready(pid_t pid, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(s);
		if (ok)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
	return false;
}

static pid_t start_server(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		execl(path, path, "--port", "3999", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The source line LINE of PATH mentions WHAT (only checked while the
 * source is not newer than the binary that described it). */
static void check_source_line(const char *path, int line, const char *what)
{
	struct stat src, bin;
	char text[1024];
	if (stat(path, &src) < 0 || stat(BLOCKING_SERVER, &bin) < 0 || src.st_mtime > bin.st_mtime)
		return;
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	for (int i = 1; fgets(text, sizeof text, f) && i < line; i++)
		;
	fclose(f);
	assert_non_null(strstr(text, what));
}

static void test_blocking_server(void **state)
{
	char real[4096];
	uint64_t first_load, size = 0;
	if (!realpath(BLOCKING_SERVER, real))
		skip();
	uint64_t sym = elf_symbol(real, "blocking_kinds::burn_cpu", &first_load, &size);
	assert_true(sym != 0);
	assert_true(first_load != UINT64_MAX);

	pid_t pid = start_server(real);
	assert_true(pid > 0);
	if (!wait_ready(pid, 3999)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		print_message("blocking-server did not start on port 3999 (in use?)\n");
		skip();
	}
	uint64_t addr = mapped_base(pid, real) - first_load + sym;
	struct tg_symbolizer *sz = tg_symbolizer_new(pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_non_null(sz);

	/* symbolized after the process is gone */
	struct tg_frame f[8];
	int n = tg_symbolize(sz, addr, false, f, 8);
	assert_true(n >= 1);
	assert_string_equal(f[n - 1].function, "blocking_kinds::burn_cpu");
	assert_true(ends_with(f[n - 1].file, "/blocking-kinds/src/lib.rs"));
	assert_true(f[n - 1].line > 0);
	assert_true(f[n - 1].own);
	check_source_line(f[n - 1].file, f[n - 1].line, "burn_cpu");

	/* deeper in: inlined std frames inside burn_cpu are not own code */
	int seen_std = 0;
	for (uint64_t a = addr; a < addr + size; a++) {
		n = tg_symbolize(sz, a, false, f, 8);
		assert_string_equal(f[n - 1].function, "blocking_kinds::burn_cpu");
		for (int i = 0; i < n - 1; i++) {
			assert_true(f[i].inlined);
			assert_true(!f[i].file || !strstr(f[i].file, "/../"));
			if (f[i].file && strstr(f[i].file, "/rustc/"))
				seen_std++, assert_false(f[i].own);
		}
	}
	print_message("inlined std frames seen in burn_cpu: %d\n", seen_std);
	tg_symbolizer_free(sz);
}

/* Starts blocking-tasks at PATH for a few seconds; its pid once PATH is mapped, or -1. */
static pid_t start_tasks(const char *path, uint64_t *base)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		execl(path, path, "--seconds", "3", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 100 && !(*base = mapped_base(pid, path)); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	return pid > 0 && *base ? pid : -1;
}

/* blocking-tasks as a default release build (no DWARF) and with line tables
 * only (DWARF's names are short there: "burn_cpu", "{async_fn#0}"): a frame
 * that is not inlined has the symbol table's full name either way, and
 * file:line exactly where line tables are (examples/build-matrix.sh). */
static void test_names_at_any_debug_level(void **state)
{
	static const char *const builds[] = { TG_SOURCE_DIR "/examples/target/builds/default/blocking-tasks",
					      TG_SOURCE_DIR "/examples/target/builds/lines/blocking-tasks" };
	static const char *const fns[] = { "blocking_kinds::burn_cpu", "blocking_tasks::cpu_task::{{closure}}" };
	static const char *const files[] = { "/blocking-kinds/src/lib.rs", "/blocking-tasks/src/main.rs" };
	(void)state;

	for (size_t b = 0; b < 2; b++) {
		char real[4096];
		uint64_t first_load, size, sym[2], base = 0;
		if (!realpath(builds[b], real)) {
			print_message("skipped: %s is missing (examples/build-matrix.sh)\n", builds[b]);
			skip();
		}
		for (size_t i = 0; i < 2; i++)
			assert_true((sym[i] = elf_symbol(real, fns[i], &first_load, &size)) != 0);
		pid_t pid = start_tasks(real, &base);
		assert_true(pid > 0);
		struct tg_symbolizer *sz = tg_symbolizer_new(pid);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		assert_non_null(sz);
		for (size_t i = 0; i < 2; i++) {
			struct tg_frame f[16];
			int n = tg_symbolize(sz, base - first_load + sym[i] + 4, false, f, 16);
			assert_true(n >= 1);
			assert_string_equal(f[n - 1].function, fns[i]);
			assert_false(f[n - 1].inlined);
			assert_true(f[n - 1].own);
			if (b == 0) {
				assert_null(f[n - 1].file);
				assert_int_equal(f[n - 1].line, 0);
			} else {
				assert_true(ends_with(f[n - 1].file, files[i]));
				assert_true(f[n - 1].line > 0);
			}
		}
		tg_symbolizer_free(sz);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_in_this_file),
		cmocka_unit_test(test_inlined_frames),
		cmocka_unit_test(test_libc),
		cmocka_unit_test(test_leaf_return_address),
		cmocka_unit_test(test_cache_and_unknown),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_deleted_library),
		cmocka_unit_test(test_after_exit),
		cmocka_unit_test(test_blocking_server),
		cmocka_unit_test(test_names_at_any_debug_level),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
