/* What a blocking span blocked on, read from its stacks, and what to do about it. */
#ifndef TG_SPAN_KIND_H
#define TG_SPAN_KIND_H

struct tg_span;

enum tg_block_kind {
	TG_BLOCK_UNKNOWN = 0, /* not resolved yet, or no stack to tell */
	TG_BLOCK_CPU,         /* computing on the worker */
	TG_BLOCK_SLEEP,       /* std::thread::sleep (nanosleep, clock_nanosleep) */
	TG_BLOCK_FILE_IO,     /* std::fs / sync read, write, open, fsync... on files */
	TG_BLOCK_MUTEX,       /* std::sync::Mutex / RwLock / Condvar wait (futex) */
	TG_BLOCK_NET_IO,      /* blocking std::net I/O, DNS (getaddrinfo) */
	TG_BLOCK_WAIT,        /* off-CPU on something else */
};

/* Classifies a resolved span (frames, functions and on/off-CPU split). */
enum tg_block_kind tg_block_kind_of(const struct tg_span *s);
/* "cpu", "sleep", "file_io", "mutex", "net_io", "wait", "unknown" (results.json, trace args) */
const char *tg_block_kind_name(enum tg_block_kind k);
/* "CPU work", "thread::sleep", "sync file I/O", ...: for people. */
const char *tg_block_kind_title(enum tg_block_kind k);
/* One line: what to do instead, e.g. "move it to tokio::task::spawn_blocking or rayon". */
const char *tg_block_kind_advice(enum tg_block_kind k);

#endif
