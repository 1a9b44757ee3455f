/* The spec's model: what a spec file says, as plain structs and enums (no
 * behaviour). Every stage reads it; spec.h (the face) parses a file into it. */
#ifndef TG_SPEC_MODEL_H
#define TG_SPEC_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tg_ready_kind { TG_READY_NONE = 0, TG_READY_TCP, TG_READY_DELAY, TG_READY_HTTP, TG_READY_LOG };
enum tg_step_kind { TG_STEP_EXEC = 1, TG_STEP_SLEEP, TG_STEP_HTTP, TG_STEP_TCP, TG_STEP_PARALLEL };

/* How many requests a traffic step (http, tcp) makes, and when.
 * Open model (rate > 0): requests start on a steady schedule, rate per
 * second, whether or not earlier ones finished; concurrency, when given, caps
 * the requests in flight (default 1000). Closed model (rate == 0): exactly
 * `concurrency` requests always in flight (default 1). Exactly one of
 * duration_ns / requests is non-zero. */
struct tg_traffic {
	double rate_per_s;     /* "100/s", "6000/m"; 0: closed model */
	uint32_t concurrency;  /* 0 when not given */
	uint64_t duration_ns;
	uint64_t requests;
};

struct tg_http_req {
	char *url;
	char *method;          /* default "GET" */
	char **headers;        /* NULL-terminated "Name: value" lines; never NULL */
	char *body;            /* body or body_file's contents (read at load); may be NULL */
	size_t body_len;
	int expect_status;     /* 0: any 2xx */
	uint64_t timeout_ns;   /* per request; default 10s */
};

struct tg_tcp_req {
	char *host, *port;     /* from addr: "127.0.0.1:6379", "[::1]:6379" */
	char *send;            /* bytes to send (YAML escapes already applied) */
	size_t send_len;
	char *expect;          /* substring the reply must contain; NULL: any reply */
	uint64_t timeout_ns;   /* per request; default 10s */
};

struct tg_step {
	char *name;          /* given, or "<kind> #<n>" (n counts from 1 over all steps, children included) */
	enum tg_step_kind kind;
	char **argv;         /* exec: NULL-terminated */
	char **env;          /* exec: NULL-terminated "KEY=VALUE" added to the environment; never NULL */
	char *cwd;           /* exec: absolute; default: the spec folder */
	uint64_t timeout_ns; /* exec: default 5m */
	uint64_t sleep_ns;   /* sleep */
	struct tg_http_req http;      /* http */
	struct tg_tcp_req tcp;        /* tcp */
	struct tg_traffic traffic;    /* http, tcp */
	struct tg_step *children;     /* parallel: run at the same time */
	size_t nchildren;
	int line, column;    /* where the step starts in the spec */
};

/* One limit of an assertion entry, in the order written. */
enum tg_limit_kind {
	/* task, function and no-selector entries */
	TG_LIM_MAX_POLL = 1, TG_LIM_P50_POLL, TG_LIM_P90_POLL, TG_LIM_P99_POLL, TG_LIM_P999_POLL,
	TG_LIM_MAX_BLOCKING_SPANS,   /* count */
	TG_LIM_MAX_BLOCKING_TIME,    /* duration: sum of non-allowed span durations */
	TG_LIM_MIN_POLLS,            /* count */
	TG_LIM_MAX_POLL_REGRESSION,  /* percent, vs --baseline */
	TG_LIM_MAX_CPU_SHARE,        /* percent of CPU profile samples (function selectors) */
	TG_LIM_MAX_SCHEDULING_DELAY, TG_LIM_P99_SCHEDULING_DELAY, /* durations, wake to poll */
	TG_LIM_MAX_DELAYED_TASKS,    /* count: tasks one span kept waiting (its cascade) */
	TG_LIM_MAX_HEAP_GROWTH,      /* bytes (probe.heap): no selector or a function selector */
	TG_LIM_MAX_ALLOC_RATE,       /* rate (probe.heap): allocations per second at the sites */
	TG_LIM_MAX_WORKER_BUSY,      /* percent: the busiest worker's busy share (no selector) */
	/* load entries */
	TG_LIM_MAX_ERRORS,           /* count */
	TG_LIM_MAX_ERROR_RATE,       /* percent */
	TG_LIM_P50_LATENCY, TG_LIM_P99_LATENCY, TG_LIM_MAX_LATENCY, /* durations */
	TG_LIM_MIN_THROUGHPUT,       /* rate */
	TG_LIM__COUNT
};

/* How a limit's value is written and compared. */
enum tg_limit_unit { TG_UNIT_DURATION, TG_UNIT_COUNT, TG_UNIT_PERCENT, TG_UNIT_RATE, TG_UNIT_BYTES };

struct tg_limit {
	enum tg_limit_kind kind;
	uint64_t ns;      /* TG_UNIT_DURATION */
	uint64_t count;   /* TG_UNIT_COUNT, TG_UNIT_BYTES */
	double value;     /* TG_UNIT_PERCENT (25 for "25%"), TG_UNIT_RATE (per second) */
	char *text;       /* the value as written in the spec: "5ms", "0", "25%", "50/s" */
	int line, column; /* of the limit's key */
};

/* Which polls or load steps an assertion entry looks at. */
enum tg_selector { TG_SEL_ALL = 0, TG_SEL_TASK, TG_SEL_FUNCTION, TG_SEL_LOAD };

struct tg_assertion {
	enum tg_selector sel;
	char *pattern;         /* task/function/load name or glob (* ?); NULL for TG_SEL_ALL */
	bool allow_missing;    /* a selector matching nothing passes (skipped) instead of failing */
	bool warn;             /* mode: warn: failures are reported, never fail the run */
	struct tg_limit *limits;
	size_t nlimits;        /* at least 1 */
	int line, column;      /* of the entry */
};

/* allow: blocking spans whose stacks hold a frame matching FUNCTION are accepted. */
struct tg_allow {
	char *function;  /* glob on demangled frame names without hashes */
	char *reason;    /* required: carried into every report */
	int line, column;
};

/* probe.stack_copy's largest: the copy lives in a BPF task storage value,
 * which must stay under 64KB (bpf/poll_probe.h's TG_COPY_MAX_PAGES). */
#define TG_SPEC_STACK_COPY_MAX (56u << 10)

/* probe.unwind: how user stacks are walked. */
enum tg_unwind {
	TG_UNWIND_AUTO = 0, /* dwarf where the binary keeps no frame pointers */
	TG_UNWIND_FP,       /* the kernel's frame-pointer walk */
	TG_UNWIND_DWARF,    /* register and stack copies, unwound with CFI in user space */
};

struct tg_spec {
	char *path;    /* as given */
	char *dir;     /* absolute folder of the spec file */
	char *root;    /* source paths in reports are relative to it: tg_source_root() */
	int version;   /* always 1 */
	char *name;    /* default: spec file base name without .yaml/.yml */

	struct {
		char **argv; /* NULL-terminated; a string command is split like a shell would */
		char *cwd;   /* absolute; default: spec folder */
		char **env;  /* NULL-terminated "KEY=VALUE" entries added to the environment;
		              * never NULL after a successful load (empty: env[0] == NULL) */
		char *user;  /* run target and exec steps as this user (name or uid); NULL:
		              * the user behind sudo (SUDO_UID/SUDO_GID) when run through sudo */
		struct {
			enum tg_ready_kind kind;   /* NONE: no ready: in the spec, start load at once */
			char *tcp_host, *tcp_port; /* "127.0.0.1", "3000"; [::1]:3000 gives "::1" */
			uint64_t delay_ns;
			char *http_url;            /* any 2xx */
			char *log_regex;           /* POSIX extended regex on stdout/stderr lines */
			uint64_t timeout_ns;       /* default 30s */
		} ready;
		struct {
			int signal;         /* default SIGTERM; names with or without SIG, or numbers */
			uint64_t grace_ns;  /* default 5s */
		} stop;
	} target;

	struct {
		uint64_t blocking_threshold_ns; /* default 10ms */
		uint32_t sample_rate;           /* default 999; 0 turns sampling off */
		uint32_t stack_depth;           /* default 64, at most 127 */
		uint64_t ring_buffer_bytes;     /* default 16MB; a power of two, at least a page */
		enum tg_unwind unwind;          /* default auto */
		uint32_t stack_copy_bytes;      /* dwarf mode's stack copy; default 16KB, 4KB to 56KB */
		bool scheduling_delay;          /* default on: wake-to-poll time and each span's delayed tasks */
		uint32_t cpu_profile_hz;        /* probe.cpu_profile: samples a second per CPU; 0 (default): off */
		bool heap;                      /* allocation tracking (probe.heap); default false */
	} probe;

	struct tg_step *steps; /* NULL when nsteps == 0 */
	size_t nsteps;

	struct tg_allow *allow;  /* NULL when nallow == 0 */
	size_t nallow;
	/* NULL when nassertions == 0. has_assertions tells "assertions: []" (measure
	 * only, no checks) from no assertions key (the default check applies:
	 * max_blocking_spans: 0 on every task). */
	struct tg_assertion *assertions;
	size_t nassertions;
	bool has_assertions;

	struct {
		char *dir;      /* default "tokio-guard-out", relative to the working directory */
		char *junit, *trace, *results; /* file names inside dir */
		char *html;                    /* default "report.html"; "" when `html: false` */
		uint64_t trace_min_poll_ns;    /* default 100us */
		uint32_t trace_max_polls;      /* polls kept in memory for the trace, the longest; default 128k */
	} report;
};

#endif
