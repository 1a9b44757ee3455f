// SPDX-License-Identifier: MIT
/* Loading and attaching poll_probe. Uprobes attach by file offset with the
 * target's pid as filter, one entry and one return probe per poll site, the
 * site index and kind in the attach cookie. sched_switch is a tp_btf program
 * (no tracefs needed). On-CPU sampling is one cpu-clock perf event per CPU.
 * Function selectors and scheduling delay add entry uprobes (fn_enter at each
 * selected function, task_wake at Tokio's waker functions); their programs
 * are loaded and their maps sized only when asked, so the default
 * configuration costs what it did without them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe.h"
#include "privileges.h"
#include "fn_sites.h"
#include "poll_sites.h"
#include "poll_probe_obj.h"
#include "uprobe_multi.h"
#include "links.h"
#include "uprobe_perf.h"

enum sampler { SAMPLER_OFF, SAMPLER_TICK, SAMPLER_PERF };

#define FN_MAX_ATTACH 512     /* functions probed per selector */
#define WAKE_MAX_ATTACH 4096  /* wake functions: one per <T, S> in older Tokio */
#define WAKE_SLOT_BITS 16     /* wake slots (1 << this): tasks with a wake not yet followed by a poll */

/* Tokio's waker vtable functions: their addresses are taken in a static
 * RawWakerVTable, so they survive inlining and LTO as (local) symbols. */
static const char *const wake_globs[] = {
	"tokio::runtime::task::waker::wake_by_val",
	"tokio::runtime::task::waker::wake_by_ref",
};

struct tg_probe {
	struct tg_poll_probe *skel;
	enum sampler sampler;
	struct ring_buffer *rb;
	int epfd, wakefd; /* the ring buffer's epoll fd and tg_probe_wake's eventfd in one set */
	struct tg_links links;
	int ncpus;
	void *percpu_buf; /* one site's values for every CPU */
	size_t nfn;
	struct tg_fn_sites fns[TG_MAX_FN_SELECTORS]; /* per selector */
	struct tg_fn_sites wakes;                    /* when sched_delay */
	bool sched;
	uint32_t nsites;
	bool multi;          /* uprobes as uprobe_multi links (else one link per probe) */
	size_t multi_probes;  /* offsets those links carry */
	size_t single_probes; /* perf-event uprobes (where uprobe_multi is missing) */
};

static char libbpf_last[512];

/* libbpf's own messages are kept: the last one explains most load failures. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;
	va_list copy;

	if (level == LIBBPF_DEBUG)
		return 0;
	if (getenv("TG_LIBBPF_DEBUG")) { /* verifier logs are longer than any line */
		va_copy(copy, ap);
		vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	if (n)
		snprintf(libbpf_last, sizeof(libbpf_last), "%s", line);
	return 0;
}

static bool g_single; /* single perf-event uprobes: they need CAP_SYS_ADMIN too */

static bool denied(int r)
{
	return r == -EPERM || r == -EACCES;
}

static int fail(char *err, size_t errlen, int r, const char *what)
{
	if (denied(r))
		tg_permission_error(what, g_single, err, errlen);
	else
		snprintf(err, errlen, "%s: %s%s%s", what, strerror(-r),
			 libbpf_last[0] ? "; libbpf: " : "", libbpf_last);
	return r;
}

/* Whole pages from sp's page up that hold at least BYTES above sp. */
static uint32_t pages_to_copy(uint32_t bytes)
{
	uint32_t pages = (bytes ? bytes : 16384) / TG_COPY_PAGE + 1;

	return pages < TG_COPY_MAX_PAGES ? pages : TG_COPY_MAX_PAGES;
}

static void configure(struct tg_probe *p, const struct tg_probe_opts *o)
{
	struct tg_poll_probe *s = p->skel;
	uint32_t depth = o->stack_depth ? o->stack_depth : 64;
	uint64_t floor = o->trace_min_ns < o->blocking_ns ? o->trace_min_ns : o->blocking_ns;

	if (depth > TG_MAX_STACK_DEPTH)
		depth = TG_MAX_STACK_DEPTH;
	*s->rodata.target_tgid = (uint32_t)o->pid;
	*s->rodata.trace_min_ns = o->trace_min_ns;
	*s->rodata.blocking_ns = o->blocking_ns;
	*s->rodata.stack_floor_ns = floor;
	*s->rodata.stack_bytes = depth * sizeof(uint64_t);
	*s->rodata.sample_period_ns = o->sample_rate ? 1000000000ull / o->sample_rate : 0;
	*s->rodata.boost_after_ns = o->blocking_ns / 4 > floor ? o->blocking_ns / 4 : floor;
	*s->rodata.unwind_dwarf = o->unwind_dwarf;
	*s->rodata.copy_pages = pages_to_copy(o->stack_copy);
	bpf_map__set_max_entries(s->maps.samplers, (uint32_t)p->ncpus);
	bpf_map__set_max_entries(s->maps.site_stats, (uint32_t)o->sites->n);
	for (size_t i = 0; i < o->sites->n; i++) {
		if (o->sites->v[i].segments == 1)
			*s->rodata.block_on_main_site = (uint32_t)i;
		else if (o->sites->v[i].segments == 2)
			*s->rodata.block_on_other_site = (uint32_t)i;
	}
	bpf_map__set_max_entries(s->maps.events, (uint32_t)(o->ringbuf_bytes ? o->ringbuf_bytes : 16u << 20));
	*s->rodata.wakeup_bytes = (o->ringbuf_bytes ? o->ringbuf_bytes : 16u << 20) / 8; /* 1/8 full */
	bpf_program__set_autoload(s->progs.on_sample, p->sampler == SAMPLER_PERF);
	bpf_program__set_autoload(s->progs.on_tick, p->sampler == SAMPLER_TICK);
	if (p->multi) {
		struct bpf_program *up[] = { s->progs.poll_enter, s->progs.poll_exit, s->progs.park_enter,
					     s->progs.park_exit, s->progs.fn_enter, s->progs.task_wake };

		for (size_t k = 0; k < sizeof(up) / sizeof(up[0]); k++)
			bpf_program__set_expected_attach_type(up[k], TG_BPF_TRACE_UPROBE_MULTI);
	}
	*s->rodata.timer_sampler = p->sampler == SAMPLER_TICK;
	/* Optional parts: program and maps only when asked (maps stay at 1 entry). */
	bpf_program__set_autoload(s->progs.fn_enter, p->nfn > 0);
	if (p->nfn)
		bpf_map__set_max_entries(s->maps.fn_stats, (uint32_t)p->nfn);
	bpf_program__set_autoload(s->progs.task_wake, p->sched);
	*s->rodata.sched_delay = p->sched;
	if (p->sched) {
		bpf_map__set_max_entries(s->maps.sched_stats, (uint32_t)o->sites->n);
		bpf_map__set_max_entries(s->maps.wake_slots, 1u << WAKE_SLOT_BITS);
		*s->rodata.wake_slot_bits = WAKE_SLOT_BITS;
	}
}

/* One uprobe of PROG at OFFSET, COOKIE in it. */
static int attach_single(struct tg_probe *p, const struct tg_probe_opts *o, struct bpf_program *prog,
			 uint64_t offset, uint64_t cookie, bool ret)
{
	int pfd, lfd = tg_uprobe_perf_attach(bpf_program__fd(prog), o->exe, o->pid, offset, cookie, ret,
					     &pfd);
	int r;

	if (lfd < 0)
		return lfd;
	if ((r = tg_links_add_slow(&p->links, lfd))) {
		close(pfd);
		return r;
	}
	if ((r = tg_links_add_slow(&p->links, pfd)))
		return r;
	p->single_probes++;
	return 0;
}

/* PROG at N OFFSETS (each with its cookie): one uprobe_multi link, or one
 * uprobe each on kernels without it. */
static int attach_uprobes(struct tg_probe *p, const struct tg_probe_opts *o, struct bpf_program *prog,
			  const uint64_t *off, const uint64_t *ck, size_t n, bool ret)
{
	int fd, r;

	if (!n)
		return 0;
	if (!p->multi) {
		for (size_t i = 0; i < n; i++)
			if ((r = attach_single(p, o, prog, off[i], ck[i], ret)))
				return r;
		return 0;
	}
	fd = tg_uprobe_multi_attach(bpf_program__fd(prog), o->exe, o->pid, off, ck, n, ret);
	if (fd < 0)
		return fd;
	if ((r = tg_links_add_fd(&p->links, fd)))
		return r;
	p->multi_probes += n;
	return 0;
}

/* Entry and return probes on every poll site and every park: the polls
 * fill the front of the arrays, the parks the back. */
static int attach_sites(struct tg_probe *p, const struct tg_probe_opts *o)
{
	size_t n = o->sites->n, np = 0, nk = 0;
	uint64_t *off = calloc(n ? 2 * n : 1, sizeof(*off)), *ck = calloc(n ? 2 * n : 1, sizeof(*ck));
	struct tg_poll_probe *s = p->skel;
	int r = -ENOMEM;

	if (!off || !ck)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct tg_poll_site *site = &o->sites->v[i];
		uint64_t cookie = ((uint64_t)site->kind << 32) | (uint32_t)i;
		bool park = site->kind == TG_SITE_PARK || site->kind == TG_SITE_DRIVER_PARK;

		if (site->segments)
			continue; /* counted at the parks: nothing of its own to probe */
		off[park ? n + nk : np] = site->offset;
		ck[park ? n + nk++ : np++] = cookie;
	}
	if ((r = attach_uprobes(p, o, s->progs.poll_enter, off, ck, np, false)) ||
	    (r = attach_uprobes(p, o, s->progs.poll_exit, off, ck, np, true)) ||
	    (r = attach_uprobes(p, o, s->progs.park_enter, off + n, ck + n, nk, false)))
		goto out;
	r = attach_uprobes(p, o, s->progs.park_exit, off + n, ck + n, nk, true);
out:
	free(off);
	free(ck);
	return r;
}

/* Entry probes of PROG at every function of FNS, COOKIE in each. */
static int attach_fns(struct tg_probe *p, const struct tg_probe_opts *o, struct bpf_program *prog,
		      const struct tg_fn_sites *fns, uint64_t cookie, char *err, size_t errlen)
{
	uint64_t *off = calloc(fns->n ? fns->n : 1, sizeof(*off));
	uint64_t *ck = calloc(fns->n ? fns->n : 1, sizeof(*ck));
	size_t n = 0;
	int r = -ENOMEM;

	if (off && ck) {
		/* one probe per offset: two symbols at one address would count twice */
		for (size_t i = 0; i < fns->n; i++) {
			size_t k = 0;

			while (k < n && off[k] != fns->v[i].offset)
				k++;
			if (k == n) {
				off[n] = fns->v[i].offset;
				ck[n++] = cookie;
			}
		}
		r = attach_uprobes(p, o, prog, off, ck, n, false);
	}
	free(off);
	free(ck);
	if (r) {
		char what[256];

		snprintf(what, sizeof(what), "attaching uprobes to %zu functions (%s%s)", fns->n,
			 fns->n ? fns->v[0].name : "", fns->n > 1 ? ", ..." : "");
		return fail(err, errlen, r, what);
	}
	return 0;
}

static int attach_optional(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	int r;

	for (size_t i = 0; i < p->nfn; i++)
		if ((r = attach_fns(p, o, p->skel->progs.fn_enter, &p->fns[i], i, err, errlen)))
			return r;
	if (p->sched)
		return attach_fns(p, o, p->skel->progs.task_wake, &p->wakes, 0, err, errlen);
	return 0;
}

static int open_sampler(int cpu, uint32_t rate)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = rate,
	};

	return (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int attach_samplers(struct tg_probe *p, uint32_t rate)
{
	for (int cpu = 0; cpu < p->ncpus; cpu++) {
		struct bpf_link *l;
		int fd = open_sampler(cpu, rate);

		if (fd < 0) {
			if (errno == ENODEV) /* offline CPU */
				continue;
			return -errno;
		}
		/* the link owns the perf event from here: destroying it closes both */
		l = bpf_program__attach_perf_event(p->skel->progs.on_sample, fd);
		if (!l) {
			int r = -errno;

			close(fd);
			return r;
		}
		if (tg_links_add(&p->links, l))
			return -ENOMEM;
	}
	return 0;
}

/* A program that attaches by its section name (tp_btf, raw tracepoints). */
static int attach_prog(struct tg_probe *p, struct bpf_program *prog, const char *what, char *err,
		       size_t errlen)
{
	struct bpf_link *l = bpf_program__attach(prog);
	int r;

	if (!l)
		return fail(err, errlen, -errno, what);
	if ((r = tg_links_add(&p->links, l)))
		return fail(err, errlen, r, what);
	return 0;
}

static int attach_all(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	struct tg_poll_probe *s = p->skel;
	int r;

	if ((r = attach_sites(p, o)))
		return fail(err, errlen, r, p->multi ? "attaching uprobe_multi links to the poll sites"
						     : "attaching uprobes to the poll sites");
	if ((r = attach_optional(p, o, err, errlen)) ||
	    (r = attach_prog(p, s->progs.on_switch, "attaching sched_switch (tp_btf)", err, errlen)) ||
	    (r = attach_prog(p, s->progs.on_wakeup, "attaching sched_wakeup (tp_btf)", err, errlen)) ||
	    (r = attach_prog(p, s->progs.on_exit, "attaching sched_process_exit (tp_btf)", err, errlen)))
		return r;
	if (p->sampler == SAMPLER_PERF && (r = attach_samplers(p, o->sample_rate)))
		return fail(err, errlen, r, "opening cpu-clock sampling perf events");
	if (p->sampler == SAMPLER_TICK)
		return attach_prog(p, s->progs.on_tick, "attaching the tick sampler (hrtimer_expire_entry)",
				   err, errlen);
	return 0;
}

/* Opens, configures and loads the BPF object for one sampler kind. */
static int load(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	const char *missing;
	char what[160];
	int r;

	libbpf_last[0] = 0;
	p->skel = tg_poll_probe_open(&missing);
	if (!p->skel) {
		r = -errno;
		/* a name missing from the object: bpf/ and probe/ of different builds */
		snprintf(what, sizeof(what), "opening the BPF object%s%s%s", missing ? " (its " : "",
			 missing ? missing : "", missing ? " is missing: rebuild tokio-guard)" : "");
		return fail(err, errlen, r, what);
	}
	configure(p, o);
	r = tg_poll_probe_load(p->skel);
	return r ? fail(err, errlen, r, "loading BPF programs") : 0;
}

/* Detaches everything and unloads, keeping the struct for another try. */
static void unload(struct tg_probe *p)
{
	ring_buffer__free(p->rb);
	p->rb = NULL;
	tg_links_release(&p->links);
	p->multi_probes = p->single_probes = 0;
	tg_poll_probe_destroy(p->skel);
	p->skel = NULL;
}

static int try_load(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	int r = load(p, o, err, errlen);

	return r ? r : attach_all(p, o, err, errlen);
}

/* After a failed try: says why (with TG_LIBBPF_DEBUG) and unloads, so the
 * caller can try again with FALLBACK. */
static void step_down(struct tg_probe *p, const char *err, const char *what, const char *fallback)
{
	if (getenv("TG_LIBBPF_DEBUG"))
		fprintf(stderr, "tokio-guard: %s unavailable (%s), %s\n", what, err, fallback);
	unload(p);
}

static bool env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] && strcmp(v, "0") != 0;
}

/* Kernels without uprobe_multi (before 6.6) get one uprobe per probe. The
 * tick sampler needs BPF timers in tracing programs; where the kernel
 * refuses them, cpu-clock perf events do the same job at a higher cost. */
static int load_and_attach(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	int r;

	p->sampler = !o->sample_rate ? SAMPLER_OFF : getenv("TG_PERF_SAMPLER") ? SAMPLER_PERF : SAMPLER_TICK;
	/* uprobe_multi where the kernel has it (6.6+); TG_UPROBE_SINGLE=1 forces one link per probe */
	p->multi = !env_flag("TG_UPROBE_SINGLE");
	g_single = !p->multi;
	r = try_load(p, o, err, errlen);
	/* a missing feature steps down; a missing privilege does not go away so */
	if (r && p->multi && !denied(r)) {
		step_down(p, err, "uprobe_multi", "one uprobe per probe");
		p->multi = false;
		g_single = true;
		r = try_load(p, o, err, errlen);
	}
	if (r && p->sampler == SAMPLER_TICK && !denied(r)) {
		step_down(p, err, "tick sampler", "using perf events");
		p->sampler = SAMPLER_PERF;
		r = try_load(p, o, err, errlen);
	}
	return r;
}

/* Selector I's functions; more than FN_MAX_ATTACH are cut with a warning:
 * each probe costs a trap per call. */
static int find_selector(struct tg_probe *p, const struct tg_probe_opts *o, size_t i, char *err, size_t errlen)
{
	struct tg_fn_sites *f = &p->fns[i];
	int r = tg_find_functions(o->exe, o->fn_globs[i], FN_MAX_ATTACH + 1, f, err, errlen);

	if (r == 0 && f->n > FN_MAX_ATTACH) {
		fprintf(stderr, "tokio-guard: function selector \"%s\" matches more than %d functions; "
			"probing the first %d only: make it narrower\n", o->fn_globs[i], FN_MAX_ATTACH,
			FN_MAX_ATTACH);
		free(f->v[FN_MAX_ATTACH].name);
		f->n = FN_MAX_ATTACH;
	}
	return r;
}

/* Tokio's waker functions, for scheduling delay. */
static int find_wakes(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	for (size_t g = 0; g < sizeof(wake_globs) / sizeof(wake_globs[0]); g++) {
		struct tg_fn_sites f;
		struct tg_fn_site *v;
		int r = tg_find_functions(o->exe, wake_globs[g], WAKE_MAX_ATTACH, &f, err, errlen);

		if (r)
			return r;
		v = realloc(p->wakes.v, (p->wakes.n + f.n + 1) * sizeof(*v));
		if (!v) {
			tg_fn_sites_free(&f);
			return -ENOMEM;
		}
		memcpy(v + p->wakes.n, f.v, f.n * sizeof(*v));
		p->wakes.v = v;
		p->wakes.n += f.n;
		free(f.v);
	}
	if (p->wakes.n == 0) {
		snprintf(err, errlen, "scheduling delay: %s has no tokio::runtime::task::waker::wake_by_val/"
			 "wake_by_ref symbols (stripped or an unknown Tokio version): drop the scheduling "
			 "delay limits or build the target with symbols", o->exe);
		return -ENOENT;
	}
	return 0;
}

/* Every function the optional probes need, found once (not per load try). */
static int find_optional(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	int r;

	if (o->nfn > TG_MAX_FN_SELECTORS) {
		snprintf(err, errlen, "%zu function selectors: at most %d can be probed at once",
			 o->nfn, TG_MAX_FN_SELECTORS);
		return -E2BIG;
	}
	for (p->nfn = 0; p->nfn < o->nfn; p->nfn++)
		if ((r = find_selector(p, o, p->nfn, err, errlen)))
			return r;
	p->sched = o->sched_delay;
	r = p->sched ? find_wakes(p, o, err, errlen) : 0;
	/* on by default, not asked for: a binary without the waker symbols runs without it */
	if (r && o->sched_delay_best_effort) {
		tg_fn_sites_free(&p->wakes);
		p->sched = false;
		err[0] = '\0';
		return 0;
	}
	return r;
}

bool tg_probe_sched_delay(const struct tg_probe *p)
{
	return p->sched;
}

/* One epoll set for the ring buffer and an eventfd, so that tg_probe_wake
 * ends a wait at once: stopping never waits for the poll timeout. */
static int open_wakeup(struct tg_probe *p)
{
	struct epoll_event rb = { .events = EPOLLIN }, wake = { .events = EPOLLIN };

	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->epfd < 0 || p->wakefd < 0)
		return -errno;
	rb.data.fd = bpf_map__fd(p->skel->maps.events); /* a ring buffer map polls readable */
	wake.data.fd = p->wakefd;
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, rb.data.fd, &rb) ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->wakefd, &wake))
		return -errno;
	return 0;
}

int tg_probe_open(const struct tg_probe_opts *o, struct tg_probe **out, char *err, size_t errlen)
{
	struct tg_probe *p;
	int r;

	*out = NULL;
	libbpf_set_print(libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "kernel has no BTF (/sys/kernel/btf/vmlinux): needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->epfd = p->wakefd = -1;
	p->ncpus = libbpf_num_possible_cpus();
	p->nsites = (uint32_t)o->sites->n;
	if ((r = find_optional(p, o, err, errlen)))
		goto err;
	if ((r = load_and_attach(p, o, err, errlen)))
		goto err;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events),
				 (ring_buffer_sample_fn)o->on_event, o->ctx, NULL);
	p->percpu_buf = calloc((size_t)p->ncpus, sizeof(struct tg_site_stats));
	if (!p->rb || !p->percpu_buf || open_wakeup(p)) {
		r = fail(err, errlen, -ENOMEM, "creating the ring buffer reader");
		goto err;
	}
	*out = p;
	return 0;
err:
	tg_probe_close(p);
	return r;
}

int tg_probe_poll(struct tg_probe *p, int timeout_ms)
{
	struct epoll_event ev[2];
	uint64_t n;
	int r = epoll_wait(p->epfd, ev, 2, timeout_ms);

	if (r < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < r; i++)
		if (ev[i].data.fd == p->wakefd && read(p->wakefd, &n, sizeof(n)) < 0)
			break; /* nothing to read: another reader took it */
	/* Events are submitted without wakeups until the ring fills up: drain
	 * whatever came in while we slept. */
	r = ring_buffer__consume(p->rb);
	return r == -EINTR ? 0 : r;
}

void tg_probe_wake(struct tg_probe *p)
{
	uint64_t one = 1;

	if (write(p->wakefd, &one, sizeof(one)) < 0)
		return; /* the counter is full: a wakeup is pending anyway */
}

void tg_probe_read_stats(struct tg_probe *p, uint64_t stats[TG_STAT__COUNT])
{
	uint64_t vals[p->ncpus];
	int fd = bpf_map__fd(p->skel->maps.stats);

	for (uint32_t k = 0; k < TG_STAT__COUNT; k++) {
		stats[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < p->ncpus; c++)
			stats[k] += vals[c];
	}
}

/* KEY of MAP, a per-CPU array of tg_site_stats, summed over CPUs. */
static int sum_site_stats(struct tg_probe *p, struct bpf_map *map, uint32_t key, struct tg_site_stats *out)
{
	struct tg_site_stats *v = p->percpu_buf;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(map), &key, v))
		return -errno;
	for (int c = 0; c < p->ncpus; c++) {
		out->polls += v[c].polls;
		out->busy_ns += v[c].busy_ns;
		out->blocking_spans += v[c].blocking_spans;
		if (v[c].max_ns > out->max_ns) {
			out->max_ns = v[c].max_ns;
			out->max_own_wall_ns = v[c].max_own_wall_ns;
		}
		if (v[c].max_wall_ns > out->max_wall_ns)
			out->max_wall_ns = v[c].max_wall_ns;
		for (size_t b = 0; b < TG_HIST_BUCKETS; b++)
			out->hist[b] += v[c].hist[b];
	}
	return 0;
}

int tg_probe_read_site(struct tg_probe *p, uint32_t site, struct tg_site_stats *out)
{
	return sum_site_stats(p, p->skel->maps.site_stats, site, out);
}

int tg_probe_read_fn(struct tg_probe *p, uint32_t idx, struct tg_site_stats *out)
{
	if (idx >= p->nfn) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return sum_site_stats(p, p->skel->maps.fn_stats, idx, out);
}

size_t tg_probe_fn_symbols(const struct tg_probe *p, uint32_t idx)
{
	return idx < p->nfn ? p->fns[idx].n : 0;
}

int tg_probe_read_sched(struct tg_probe *p, uint32_t site, struct tg_sched_stats *out)
{
	struct tg_sched_stats *v = p->percpu_buf;

	memset(out, 0, sizeof(*out));
	if (site >= p->nsites)
		return -EINVAL;
	if (!p->sched)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.sched_stats), &site, v))
		return -errno;
	for (int c = 0; c < p->ncpus; c++) {
		out->count += v[c].count;
		out->total_ns += v[c].total_ns;
		if (v[c].max_ns > out->max_ns)
			out->max_ns = v[c].max_ns;
		for (size_t b = 0; b < TG_HIST_BUCKETS; b++)
			out->hist[b] += v[c].hist[b];
	}
	return 0;
}

/* The worker_totals iterator's records: every thread's utilization totals
 * since its last ring event. The ring is drained first, so they come last. */
int tg_probe_read_workers(struct tg_probe *p, int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	struct tg_worker_event e;
	struct bpf_link *l;
	ssize_t n;
	int fd, r = 0;

	ring_buffer__consume(p->rb);
	l = bpf_program__attach_iter(p->skel->progs.worker_totals, NULL);
	if (!l) {
		r = -errno;
		if (getenv("TG_LIBBPF_DEBUG"))
			fprintf(stderr, "tokio-guard: worker totals iterator: %s\n", strerror(-r));
		return r;
	}
	fd = bpf_iter_create(bpf_link__fd(l));
	if (fd < 0) {
		r = -errno;
		bpf_link__destroy(l);
		return r;
	}
	while ((n = read(fd, &e, sizeof(e))) == (ssize_t)sizeof(e))
		fn(ctx, &e, sizeof(e));
	if (n < 0)
		r = -errno;
	if (getenv("TG_LIBBPF_DEBUG") && r)
		fprintf(stderr, "tokio-guard: worker totals iterator: %s\n", strerror(-r));
	close(fd);
	bpf_link__destroy(l);
	return r;
}

uint64_t tg_probe_polls(struct tg_probe *p)
{
	uint64_t vals[p->ncpus], n = 0;
	uint32_t k = TG_STAT_POLLS;

	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.stats), &k, vals))
		return 0;
	for (int c = 0; c < p->ncpus; c++)
		n += vals[c];
	return n;
}

size_t tg_probe_attached(const struct tg_probe *p)
{
	/* every libbpf link is one probe; a uprobe_multi link carries many */
	return p->links.nlinks + p->multi_probes + p->single_probes;
}

const char *tg_probe_sampler(const struct tg_probe *p)
{
	static const char *const names[] = { "off", "tick+timer", "perf cpu-clock" };

	return names[p->sampler];
}

void tg_probe_close(struct tg_probe *p)
{
	if (!p)
		return;
	unload(p);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->wakefd >= 0)
		close(p->wakefd);
	tg_links_free(&p->links);
	free(p->percpu_buf);
	for (size_t i = 0; i < p->nfn; i++)
		tg_fn_sites_free(&p->fns[i]);
	tg_fn_sites_free(&p->wakes);
	free(p);
}
