// SPDX-License-Identifier: MIT
/* What a blocking span blocked on. Off-CPU spans are read from their stack,
 * innermost frame first: the first frame that names a blocking operation
 * decides. Some frames only hint (a bare futex is usually a Mutex but may be a
 * channel; read() may be a file or a socket): for those the outer frames give
 * the context, and the hint is the answer when none does. */
#include <stdbool.h>
#include <string.h>

#include "record.h"
#include "span_kind.h"

/* A frame's verdict: DECIDES ends the walk, HINT is kept unless an outer frame decides. */
enum strength { NONE, HINT, DECIDES };

struct verdict {
	enum strength strength;
	enum tg_block_kind kind;
};

/* Rust paths (substring of the demangled name), most specific first. */
struct rule {
	const char *needle;
	enum tg_block_kind kind;
	enum strength strength;
};

static const struct rule rust_rules[] = {
	{ "std::thread::sleep", TG_BLOCK_SLEEP, DECIDES },
	{ "std::thread::functions::sleep", TG_BLOCK_SLEEP, DECIDES },
	{ "std::sys::thread::unix::sleep", TG_BLOCK_SLEEP, DECIDES },
	{ "std::sys::pal::unix::thread::Thread::sleep", TG_BLOCK_SLEEP, DECIDES },
	{ "std::sys::unix::thread::Thread::sleep", TG_BLOCK_SLEEP, DECIDES },
	/* waits that are not locks: channels, parking, barriers, joins */
	{ "std::sync::mpsc::", TG_BLOCK_WAIT, DECIDES },
	{ "std::sync::mpmc::", TG_BLOCK_WAIT, DECIDES },
	{ "std::sync::barrier::", TG_BLOCK_WAIT, DECIDES },
	{ "std::thread::park", TG_BLOCK_WAIT, DECIDES },
	{ "std::thread::JoinInner", TG_BLOCK_WAIT, DECIDES },
	{ "std::process::", TG_BLOCK_WAIT, DECIDES },
	{ "crossbeam_channel::", TG_BLOCK_WAIT, DECIDES },
	{ "futures_executor::local_pool::block_on", TG_BLOCK_WAIT, DECIDES },
	/* locks */
	{ "lock_contended", TG_BLOCK_MUTEX, DECIDES },
	{ "read_contended", TG_BLOCK_MUTEX, DECIDES },
	{ "write_contended", TG_BLOCK_MUTEX, DECIDES },
	{ "::Mutex<T>::lock", TG_BLOCK_MUTEX, DECIDES },
	{ "::RwLock<T>::read", TG_BLOCK_MUTEX, DECIDES },
	{ "::RwLock<T>::write", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sync::condvar::", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sys::sync::mutex::", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sys::sync::rwlock::", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sys::sync::condvar::", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sync::mutex::", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sync::poison::mutex::", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sync::rwlock::", TG_BLOCK_MUTEX, DECIDES },
	{ "std::sync::poison::rwlock::", TG_BLOCK_MUTEX, DECIDES },
	{ "parking_lot::raw_mutex::", TG_BLOCK_MUTEX, DECIDES },
	{ "parking_lot::raw_rwlock::", TG_BLOCK_MUTEX, DECIDES },
	{ "parking_lot::condvar::", TG_BLOCK_MUTEX, DECIDES },
	{ "futex", TG_BLOCK_MUTEX, HINT },
	/* files */
	{ "std::fs::", TG_BLOCK_FILE_IO, DECIDES },
	{ "std::sys::fs::", TG_BLOCK_FILE_IO, DECIDES },
	{ "std::sys::unix::fs::", TG_BLOCK_FILE_IO, DECIDES },
	{ "std::sys::pal::unix::fs::", TG_BLOCK_FILE_IO, DECIDES },
	{ "std::io::stdio::", TG_BLOCK_FILE_IO, DECIDES },
	/* network */
	{ "std::net::", TG_BLOCK_NET_IO, DECIDES },
	{ "std::sys::net::", TG_BLOCK_NET_IO, DECIDES },
	{ "std::sys_common::net::", TG_BLOCK_NET_IO, DECIDES },
	{ "std::os::unix::net::", TG_BLOCK_NET_IO, DECIDES },
	{ "std::os::net::", TG_BLOCK_NET_IO, DECIDES },
	{ "reqwest::blocking::", TG_BLOCK_NET_IO, DECIDES },
	{ "ureq::", TG_BLOCK_NET_IO, DECIDES },
};

/* libc entry points by their plain name (prefixes like __GI___, __libc_ and
 * suffixes like 64, _nocancel removed). */
static const struct rule libc_rules[] = {
	{ "nanosleep", TG_BLOCK_SLEEP, DECIDES }, { "clock_nanosleep", TG_BLOCK_SLEEP, DECIDES },
	{ "usleep", TG_BLOCK_SLEEP, DECIDES }, { "sleep", TG_BLOCK_SLEEP, DECIDES },
	{ "pthread_mutex_lock", TG_BLOCK_MUTEX, DECIDES }, { "lll_lock_wait", TG_BLOCK_MUTEX, DECIDES },
	{ "lll_lock_wait_private", TG_BLOCK_MUTEX, DECIDES },
	{ "pthread_rwlock_rdlock", TG_BLOCK_MUTEX, DECIDES },
	{ "pthread_rwlock_wrlock", TG_BLOCK_MUTEX, DECIDES },
	{ "pthread_cond_wait", TG_BLOCK_MUTEX, DECIDES },
	{ "pthread_cond_timedwait", TG_BLOCK_MUTEX, DECIDES },
	{ "futex_wait", TG_BLOCK_MUTEX, HINT }, { "futex_abstimed_wait_common", TG_BLOCK_MUTEX, HINT },
	{ "fsync", TG_BLOCK_FILE_IO, DECIDES }, { "fdatasync", TG_BLOCK_FILE_IO, DECIDES },
	{ "sync_file_range", TG_BLOCK_FILE_IO, DECIDES }, { "open", TG_BLOCK_FILE_IO, DECIDES },
	{ "openat", TG_BLOCK_FILE_IO, DECIDES }, { "creat", TG_BLOCK_FILE_IO, DECIDES },
	{ "statx", TG_BLOCK_FILE_IO, DECIDES }, { "stat", TG_BLOCK_FILE_IO, DECIDES },
	{ "fstat", TG_BLOCK_FILE_IO, DECIDES }, { "fstatat", TG_BLOCK_FILE_IO, DECIDES },
	{ "lstat", TG_BLOCK_FILE_IO, DECIDES }, { "unlink", TG_BLOCK_FILE_IO, DECIDES },
	{ "unlinkat", TG_BLOCK_FILE_IO, DECIDES }, { "rename", TG_BLOCK_FILE_IO, DECIDES },
	{ "renameat", TG_BLOCK_FILE_IO, DECIDES }, { "mkdir", TG_BLOCK_FILE_IO, DECIDES },
	{ "getdents", TG_BLOCK_FILE_IO, DECIDES }, { "readdir", TG_BLOCK_FILE_IO, DECIDES },
	{ "ftruncate", TG_BLOCK_FILE_IO, DECIDES }, { "fallocate", TG_BLOCK_FILE_IO, DECIDES },
	{ "copy_file_range", TG_BLOCK_FILE_IO, DECIDES }, { "pread", TG_BLOCK_FILE_IO, DECIDES },
	{ "pwrite", TG_BLOCK_FILE_IO, DECIDES }, { "preadv", TG_BLOCK_FILE_IO, DECIDES },
	{ "pwritev", TG_BLOCK_FILE_IO, DECIDES },
	{ "connect", TG_BLOCK_NET_IO, DECIDES }, { "accept", TG_BLOCK_NET_IO, DECIDES },
	{ "accept4", TG_BLOCK_NET_IO, DECIDES }, { "recv", TG_BLOCK_NET_IO, DECIDES },
	{ "recvfrom", TG_BLOCK_NET_IO, DECIDES }, { "recvmsg", TG_BLOCK_NET_IO, DECIDES },
	{ "send", TG_BLOCK_NET_IO, DECIDES }, { "sendto", TG_BLOCK_NET_IO, DECIDES },
	{ "sendmsg", TG_BLOCK_NET_IO, DECIDES }, { "getaddrinfo", TG_BLOCK_NET_IO, DECIDES },
	{ "gethostbyname", TG_BLOCK_NET_IO, DECIDES }, { "gethostbyname2", TG_BLOCK_NET_IO, DECIDES },
	{ "getnameinfo", TG_BLOCK_NET_IO, DECIDES },
	/* file or socket: the caller tells; none does: a wait on some descriptor */
	{ "read", TG_BLOCK_WAIT, HINT }, { "write", TG_BLOCK_WAIT, HINT },
	{ "readv", TG_BLOCK_WAIT, HINT }, { "writev", TG_BLOCK_WAIT, HINT },
	{ "close", TG_BLOCK_WAIT, HINT },
	{ "wait4", TG_BLOCK_WAIT, DECIDES }, { "waitpid", TG_BLOCK_WAIT, DECIDES },
	/* readiness waits: getaddrinfo polls its DNS socket, for one */
	{ "poll", TG_BLOCK_WAIT, HINT }, { "ppoll", TG_BLOCK_WAIT, HINT },
	{ "select", TG_BLOCK_WAIT, HINT }, { "epoll_wait", TG_BLOCK_WAIT, HINT },
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* "__GI___pread64_nocancel" -> "pread" in BUF. False when NAME is too long. */
static bool libc_base_name(const char *name, char *buf, size_t len)
{
	static const char *const suffixes[] = { "_nocancel", "_time64", "64" };
	size_t n;

	for (bool again = true; again;) {
		while (*name == '_')
			name++;
		again = starts_with(name, "GI_") || starts_with(name, "libc_");
		if (again)
			name = strchr(name, '_') + 1;
	}
	n = strlen(name);
	if (n >= len)
		return false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++)
		if (n > strlen(suffixes[i]) && ends_with(name, n, suffixes[i]))
			n -= strlen(suffixes[i]);
	memcpy(buf, name, n);
	buf[n] = '\0';
	return true;
}

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* NEEDLE in FN, not as the tail of a longer name: "my_std::fs::x" is not std::fs. */
static bool contains_path(const char *fn, const char *needle)
{
	for (const char *p = strstr(fn, needle); p; p = strstr(p + 1, needle))
		if (p == fn || !ident_char(needle[0]) || !ident_char(p[-1]))
			return true;
	return false;
}

static struct verdict frame_verdict(const char *fn)
{
	struct verdict v = { NONE, TG_BLOCK_UNKNOWN };
	char base[64];

	if (!fn || !fn[0] || fn[0] == '[')
		return v;
	if (strstr(fn, "::")) {
		for (size_t i = 0; i < sizeof(rust_rules) / sizeof(*rust_rules); i++)
			if (contains_path(fn, rust_rules[i].needle))
				return (struct verdict){ rust_rules[i].strength, rust_rules[i].kind };
		return v;
	}
	if (!libc_base_name(fn, base, sizeof(base)))
		return v;
	for (size_t i = 0; i < sizeof(libc_rules) / sizeof(*libc_rules); i++)
		if (strcmp(base, libc_rules[i].needle) == 0)
			return (struct verdict){ libc_rules[i].strength, libc_rules[i].kind };
	return v;
}

/* Walks NAMES (innermost first when they come from a stack): the first
 * deciding frame wins, else the innermost hint, else UNKNOWN. */
static enum tg_block_kind walk(const char *(*name)(const void *, size_t), const void *v, size_t n)
{
	enum tg_block_kind hint = TG_BLOCK_UNKNOWN;

	for (size_t i = 0; i < n; i++) {
		struct verdict fv = frame_verdict(name(v, i));

		if (fv.strength == DECIDES)
			return fv.kind;
		if (fv.strength == HINT && hint == TG_BLOCK_UNKNOWN)
			hint = fv.kind;
	}
	return hint;
}

static const char *frame_name(const void *v, size_t i)
{
	return ((const struct tg_frame *)v)[i].function;
}

static const char *string_name(const void *v, size_t i)
{
	return ((const char *const *)v)[i];
}

enum tg_block_kind tg_block_kind_of(const struct tg_span *s)
{
	enum tg_block_kind k = TG_BLOCK_UNKNOWN;
	bool has_stack = (s->frames && s->nframes > 0) || (s->functions && s->nfunctions > 0);

	/* Mostly on-CPU: whatever the stack holds, the worker was computing. */
	if (s->on_cpu_ns > 0 && s->on_cpu_ns >= s->poll.off_cpu_ns)
		return TG_BLOCK_CPU;
	if (s->frames && s->nframes > 0)
		k = walk(frame_name, s->frames, (size_t)s->nframes);
	/* No culprit, so no heaviest stack: every function seen still tells. */
	if (k == TG_BLOCK_UNKNOWN && s->functions)
		k = walk(string_name, s->functions, s->nfunctions);
	if (k == TG_BLOCK_UNKNOWN && has_stack && s->poll.off_cpu_ns > 0)
		k = TG_BLOCK_WAIT;
	return k;
}

struct kind_text {
	const char *name, *title, *advice;
};

static const struct kind_text texts[] = {
	[TG_BLOCK_UNKNOWN] = { "unknown", "blocking (no stack)",
			       "find the blocking call (run with frame pointers: RUSTFLAGS=\"-C force-frame-pointers=yes\") and move it to tokio::task::spawn_blocking" },
	[TG_BLOCK_CPU] = { "cpu", "CPU work",
			   "move it to tokio::task::spawn_blocking or rayon, or call tokio::task::yield_now().await inside long loops" },
	[TG_BLOCK_SLEEP] = { "sleep", "thread::sleep",
			     "use tokio::time::sleep(..).await instead of std::thread::sleep" },
	[TG_BLOCK_FILE_IO] = { "file_io", "sync file I/O",
			       "use tokio::fs, or run the std::fs calls in tokio::task::spawn_blocking" },
	[TG_BLOCK_MUTEX] = { "mutex", "std Mutex wait",
			     "use tokio::sync::Mutex, or keep the std lock's critical section short and never hold it across .await" },
	[TG_BLOCK_NET_IO] = { "net_io", "blocking network I/O",
			      "use tokio::net (and tokio::net::lookup_host for DNS) instead of std::net" },
	[TG_BLOCK_WAIT] = { "wait", "blocking wait",
			    "move the blocking wait to tokio::task::spawn_blocking, or use an async equivalent (tokio::sync channels)" },
};

static const struct kind_text *text(enum tg_block_kind k)
{
	if ((unsigned)k >= sizeof(texts) / sizeof(*texts))
		k = TG_BLOCK_UNKNOWN;
	return &texts[k];
}

const char *tg_block_kind_name(enum tg_block_kind k)
{
	return text(k)->name;
}

const char *tg_block_kind_title(enum tg_block_kind k)
{
	return text(k)->title;
}

const char *tg_block_kind_advice(enum tg_block_kind k)
{
	return text(k)->advice;
}
