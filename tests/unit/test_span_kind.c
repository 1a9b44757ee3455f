/* Span kinds from stacks as the symbolizer names real frames (taken from a
 * blocking-server run: glibc, Rust std 1.8x and Tokio 1.24 frame names). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "record.h"
#include "span_kind.h"

#define MS 1000000ull
#define MAXF 16

/* The frames every runtime poll sits on, below the task's own code. */
#define TOKIO_TAIL "tokio::runtime::task::core::Core<T,S>::poll::{{closure}}", \
	"tokio::runtime::task::core::Core<T,S>::poll", \
	"tokio::runtime::task::harness::poll_future::{{closure}}"

struct built {
	struct tg_span s;
	struct tg_frame f[MAXF];
	const char *fn[MAXF];
};

/* A span of 20ms with ON ms on the CPU, the rest off-CPU, and NAMES as its stack. */
static void build(struct built *b, uint64_t on_ms, const char *const *names)
{
	int n = 0;

	memset(b, 0, sizeof(*b));
	for (; names[n] && n < MAXF; n++) {
		b->f[n].function = (char *)names[n];
		b->fn[n] = names[n];
	}
	b->s.poll.duration_ns = 20 * MS;
	b->s.on_cpu_ns = on_ms * MS;
	b->s.poll.off_cpu_ns = (20 - on_ms) * MS;
	b->s.frames = b->f;
	b->s.nframes = n;
	b->s.functions = b->fn;
	b->s.nfunctions = (size_t)n;
	b->s.culprit = -1;
}

static enum tg_block_kind kind_of(uint64_t on_ms, const char *const *names)
{
	struct built b;

	build(&b, on_ms, names);
	return tg_block_kind_of(&b.s);
}

static const char *const cpu_stack[] = { "blocking_kinds::burn_cpu",
	"blocking_server::cpu_task::{{closure}}", TOKIO_TAIL, NULL };
static const char *const sleep_stack[] = { "__GI___clock_nanosleep",
	"std::sys::thread::unix::sleep::nanosleep", "std::sys::thread::unix::sleep",
	"std::thread::functions::sleep", "blocking_kinds::sleepy",
	"blocking_server::sleep_task::{{closure}}", TOKIO_TAIL, NULL };
static const char *const file_stack[] = { "__GI_fdatasync",
	"<std::sys::fs::unix::File>::datasync::os_datasync", "std::sys::pal::unix::cvt_r",
	"<std::fs::File>::sync_data", "blocking_kinds::sync_file_io",
	"blocking_server::file_task::{{closure}}", TOKIO_TAIL, NULL };
static const char *const mutex_stack[] = { "syscall", "std::sys::pal::unix::futex::futex_wait",
	"<std::sys::sync::mutex::futex::Mutex>::lock_contended",
	"<std::sys::sync::mutex::futex::Mutex>::lock", "std::sync::poison::mutex::Mutex<T>::lock",
	"blocking_kinds::lock_shared", "blocking_server::mutex_task::{{closure}}", TOKIO_TAIL, NULL };
static const char *const net_stack[] = { "__libc_recv", "std::sys::net::connection::socket::Socket::recv_with_flags",
	"<std::net::tcp::TcpStream as std::io::Read>::read", "demo::fetch", TOKIO_TAIL, NULL };

static void test_blocking_kinds_examples(void **state)
{
	(void)state;
	assert_int_equal(kind_of(20, cpu_stack), TG_BLOCK_CPU);
	assert_int_equal(kind_of(0, sleep_stack), TG_BLOCK_SLEEP);
	assert_int_equal(kind_of(2, file_stack), TG_BLOCK_FILE_IO);
	assert_int_equal(kind_of(0, mutex_stack), TG_BLOCK_MUTEX);
	assert_int_equal(kind_of(1, net_stack), TG_BLOCK_NET_IO);
}

/* The CPU/off-CPU split decides first: the same sleep stack, mostly on-CPU, is CPU work. */
static void test_on_cpu_beats_stack(void **state)
{
	(void)state;
	assert_int_equal(kind_of(11, sleep_stack), TG_BLOCK_CPU);
	assert_int_equal(kind_of(10, mutex_stack), TG_BLOCK_CPU);
	assert_int_equal(kind_of(9, mutex_stack), TG_BLOCK_MUTEX);
	/* on-CPU without any stack still is CPU work */
	struct tg_span s = { .on_cpu_ns = 15 * MS, .poll = { .off_cpu_ns = 5 * MS } };
	assert_int_equal(tg_block_kind_of(&s), TG_BLOCK_CPU);
}

/* read()/write() and bare futexes only hint: the outer frames give the context. */
static void test_context_decides(void **state)
{
	static const char *const file_read[] = { "__GI___libc_read",
		"<std::fs::File as std::io::Read>::read", "demo::load", NULL };
	static const char *const sock_write[] = { "__GI___libc_write",
		"<std::net::tcp::TcpStream as std::io::Write>::write", "demo::send", NULL };
	static const char *const bare_read[] = { "__GI___libc_read", "demo::read_fd", NULL };
	static const char *const chan[] = { "syscall", "std::sys::pal::unix::futex::futex_wait",
		"std::sync::mpmc::context::Context::wait_until", "std::sync::mpsc::Receiver<T>::recv",
		"demo::consume", NULL };
	static const char *const bare_futex[] = { "syscall", "std::sys::pal::unix::futex::futex_wait",
		"demo::wait", NULL };
	static const char *const dns[] = { "__GI___poll", "send_dg", "__res_context_query",
		"__GI_getaddrinfo", "<std::sys_common::net::LookupHost as core::convert::TryFrom<(&str, u16)>>::try_from",
		"demo::resolve", NULL };
	static const char *const pread[] = { "__pread64_nocancel", "demo::x", NULL };
	static const char *const pthread[] = { "__lll_lock_wait", "___pthread_mutex_lock", "c_lib_call", NULL };
	static const char *const stat[] = { "statx", "std::sys::pal::unix::fs::try_statx", "demo::meta", NULL };

	(void)state;
	assert_int_equal(kind_of(0, file_read), TG_BLOCK_FILE_IO);
	assert_int_equal(kind_of(0, sock_write), TG_BLOCK_NET_IO);
	assert_int_equal(kind_of(0, bare_read), TG_BLOCK_WAIT);
	assert_int_equal(kind_of(0, chan), TG_BLOCK_WAIT);
	assert_int_equal(kind_of(0, bare_futex), TG_BLOCK_MUTEX);
	assert_int_equal(kind_of(0, dns), TG_BLOCK_NET_IO); /* poll() only hints */
	assert_int_equal(kind_of(0, dns + 3), TG_BLOCK_NET_IO);
	assert_int_equal(kind_of(0, dns + 4), TG_BLOCK_NET_IO);
	assert_int_equal(kind_of(0, pread), TG_BLOCK_FILE_IO);
	assert_int_equal(kind_of(0, pthread), TG_BLOCK_MUTEX);
	assert_int_equal(kind_of(0, stat), TG_BLOCK_FILE_IO);
	/* a crate whose name ends like std's is not std */
	static const char *const lookalike[] = { "my_std::fs::read_config", "not_std::thread::sleep", NULL };
	assert_int_equal(kind_of(0, lookalike), TG_BLOCK_WAIT);
}

/* Without a culprit there is no heaviest stack: the span's functions still tell. */
static void test_functions_without_frames(void **state)
{
	struct built b;

	(void)state;
	build(&b, 0, file_stack);
	b.s.frames = NULL;
	b.s.nframes = 0;
	assert_int_equal(tg_block_kind_of(&b.s), TG_BLOCK_FILE_IO);

	/* off-CPU in unknown code: a wait; no stack at all: unknown */
	static const char *const unknown[] = { "[unknown] libfoo.so", "demo::x", NULL };
	assert_int_equal(kind_of(0, unknown), TG_BLOCK_WAIT);
	struct tg_span none = { .poll = { .duration_ns = 20 * MS, .off_cpu_ns = 20 * MS } };
	assert_int_equal(tg_block_kind_of(&none), TG_BLOCK_UNKNOWN);
	/* NULL function names do not crash */
	b.s.frames = b.f;
	b.s.nframes = 2;
	b.f[0].function = NULL;
	b.f[1].function = "";
	b.s.functions = NULL;
	b.s.nfunctions = 0;
	assert_int_equal(tg_block_kind_of(&b.s), TG_BLOCK_WAIT);
}

static void test_texts(void **state)
{
	static const char *const names[] = { "unknown", "cpu", "sleep", "file_io", "mutex", "net_io", "wait" };
	enum tg_block_kind all[] = { TG_BLOCK_UNKNOWN, TG_BLOCK_CPU, TG_BLOCK_SLEEP, TG_BLOCK_FILE_IO,
				     TG_BLOCK_MUTEX, TG_BLOCK_NET_IO, TG_BLOCK_WAIT };
	size_t n = sizeof(all) / sizeof(*all);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(tg_block_kind_name(all[i]), names[i]);
		assert_true(strlen(tg_block_kind_title(all[i])) > 0);
		assert_true(strlen(tg_block_kind_advice(all[i])) > 0);
		assert_null(strchr(tg_block_kind_advice(all[i]), '\n'));
		for (size_t j = 0; j < i; j++) {
			assert_string_not_equal(tg_block_kind_title(all[i]), tg_block_kind_title(all[j]));
			assert_string_not_equal(tg_block_kind_advice(all[i]), tg_block_kind_advice(all[j]));
		}
	}
	assert_string_equal(tg_block_kind_title(TG_BLOCK_CPU), "CPU work");
	assert_string_equal(tg_block_kind_title(TG_BLOCK_MUTEX), "std Mutex wait");
	assert_non_null(strstr(tg_block_kind_advice(TG_BLOCK_CPU), "spawn_blocking"));
	assert_non_null(strstr(tg_block_kind_advice(TG_BLOCK_SLEEP), "tokio::time::sleep"));
	assert_non_null(strstr(tg_block_kind_advice(TG_BLOCK_FILE_IO), "tokio::fs"));
	assert_non_null(strstr(tg_block_kind_advice(TG_BLOCK_MUTEX), "tokio::sync::Mutex"));
	assert_non_null(strstr(tg_block_kind_advice(TG_BLOCK_NET_IO), "tokio::net"));
	/* out of range never crashes */
	assert_string_equal(tg_block_kind_name((enum tg_block_kind)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocking_kinds_examples),
		cmocka_unit_test(test_on_cpu_beats_stack),
		cmocka_unit_test(test_context_decides),
		cmocka_unit_test(test_functions_without_frames),
		cmocka_unit_test(test_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
