// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loading and attaching poll_probe. Uprobes attach by file offset with the
 * target's pid as filter, one entry and one return probe per poll site, the
 * site index and kind in the attach cookie. sched_switch is a tp_btf program
 * (no tracefs needed). On-CPU sampling is one cpu-clock perf event per CPU. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe.h"
#include "poll_sites.h"
#include "poll_probe.skel.h"

enum sampler { SAMPLER_OFF, SAMPLER_TICK, SAMPLER_PERF };

struct tg_probe {
	struct poll_probe *skel;
	enum sampler sampler;
	struct ring_buffer *rb;
	struct bpf_link **links;
	size_t nlinks, cap;
	int *perf_fds;
	int nperf;
	int ncpus;
	void *percpu_buf; /* one site's values for every CPU */
};

static char libbpf_last[512];

/* libbpf's own messages are kept: the last one explains most load failures. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	if (n)
		snprintf(libbpf_last, sizeof(libbpf_last), "%s", line);
	if (getenv("TG_LIBBPF_DEBUG"))
		fprintf(stderr, "libbpf: %s\n", line);
	return 0;
}

static int keep_link(struct tg_probe *p, struct bpf_link *l)
{
	if (p->nlinks == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_link **v = realloc(p->links, cap * sizeof(*v));

		if (!v) {
			bpf_link__destroy(l);
			return -ENOMEM;
		}
		p->links = v;
		p->cap = cap;
	}
	p->links[p->nlinks++] = l;
	return 0;
}

static void configure(struct tg_probe *p, const struct tg_probe_opts *o)
{
	struct poll_probe *s = p->skel;
	uint32_t depth = o->stack_depth ? o->stack_depth : 64;
	uint64_t floor = o->trace_min_ns < o->blocking_ns ? o->trace_min_ns : o->blocking_ns;

	if (depth > TG_MAX_STACK_DEPTH)
		depth = TG_MAX_STACK_DEPTH;
	s->rodata->target_tgid = (uint32_t)o->pid;
	s->rodata->trace_min_ns = o->trace_min_ns;
	s->rodata->blocking_ns = o->blocking_ns;
	s->rodata->stack_floor_ns = floor;
	s->rodata->stack_bytes = depth * sizeof(uint64_t);
	s->rodata->sample_period_ns = o->sample_rate ? 1000000000ull / o->sample_rate : 0;
	s->rodata->boost_after_ns = o->blocking_ns / 4 > floor ? o->blocking_ns / 4 : floor;
	bpf_map__set_max_entries(s->maps.samplers, (uint32_t)p->ncpus);
	bpf_map__set_max_entries(s->maps.site_stats, (uint32_t)o->sites->n);
	bpf_map__set_max_entries(s->maps.events, (o->ringbuf_mb ? o->ringbuf_mb : 16) << 20);
	s->rodata->wakeup_bytes = (uint64_t)(o->ringbuf_mb ? o->ringbuf_mb : 16) << 17; /* 1/8 full */
	bpf_program__set_autoload(s->progs.on_sample, p->sampler == SAMPLER_PERF);
	bpf_program__set_autoload(s->progs.on_tick, p->sampler == SAMPLER_TICK);
}

static int attach_site(struct tg_probe *p, const struct tg_probe_opts *o, size_t i)
{
	const struct tg_poll_site *site = &o->sites->v[i];
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_link *l;
	int r;

	uo.bpf_cookie = ((uint64_t)site->kind << 32) | (uint32_t)i;
	l = bpf_program__attach_uprobe_opts(p->skel->progs.poll_enter, o->pid, o->exe,
					    site->offset, &uo);
	if (!l)
		return -errno;
	if ((r = keep_link(p, l)))
		return r;
	uo.retprobe = true;
	l = bpf_program__attach_uprobe_opts(p->skel->progs.poll_exit, o->pid, o->exe,
					    site->offset, &uo);
	if (!l)
		return -errno;
	return keep_link(p, l);
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
	int cpu, fd, r;

	if (!p->perf_fds)
		p->perf_fds = calloc((size_t)p->ncpus, sizeof(int));
	if (!p->perf_fds)
		return -ENOMEM;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		struct bpf_link *l;

		fd = open_sampler(cpu, rate);
		if (fd < 0) {
			if (errno == ENODEV) /* offline CPU */
				continue;
			return -errno;
		}
		p->perf_fds[p->nperf++] = fd;
		l = bpf_program__attach_perf_event(p->skel->progs.on_sample, fd);
		if (!l)
			return -errno;
		if ((r = keep_link(p, l)))
			return r;
	}
	return 0;
}

static int fail(char *err, size_t errlen, int r, const char *what)
{
	if (r == -EPERM || r == -EACCES)
		snprintf(err, errlen, "%s: permission denied: run tokio-guard as root (sudo)", what);
	else
		snprintf(err, errlen, "%s: %s%s%s", what, strerror(-r),
			 libbpf_last[0] ? "; libbpf: " : "", libbpf_last);
	return r;
}

static int attach_all(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	struct bpf_link *l;
	int r;

	for (size_t i = 0; i < o->sites->n; i++) {
		if ((r = attach_site(p, o, i))) {
			char what[128];

			snprintf(what, sizeof(what), "attaching uprobe to %s at offset %#llx",
				 o->sites->v[i].task_name, (unsigned long long)o->sites->v[i].offset);
			return fail(err, errlen, r, what);
		}
	}
	l = bpf_program__attach(p->skel->progs.on_switch);
	if (!l)
		return fail(err, errlen, -errno, "attaching sched_switch (tp_btf)");
	if ((r = keep_link(p, l)))
		return fail(err, errlen, r, "attaching sched_switch");
	if (p->sampler == SAMPLER_PERF && (r = attach_samplers(p, o->sample_rate)))
		return fail(err, errlen, r, "opening cpu-clock sampling perf events");
	if (p->sampler == SAMPLER_TICK) {
		l = bpf_program__attach(p->skel->progs.on_tick);
		if (!l)
			return fail(err, errlen, -errno, "attaching the tick sampler (hrtimer_expire_entry)");
		if ((r = keep_link(p, l)))
			return r;
	}
	return 0;
}

/* Opens, configures and loads the BPF object for one sampler kind. */
static int load(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	int r;

	libbpf_last[0] = 0;
	p->skel = poll_probe__open();
	if (!p->skel)
		return fail(err, errlen, -errno, "opening the BPF object");
	configure(p, o);
	r = poll_probe__load(p->skel);
	return r ? fail(err, errlen, r, "loading BPF programs") : 0;
}

/* Detaches everything and unloads, keeping the struct for another try. */
static void unload(struct tg_probe *p)
{
	ring_buffer__free(p->rb);
	p->rb = NULL;
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	p->nlinks = 0;
	for (int i = 0; i < p->nperf; i++)
		close(p->perf_fds[i]);
	p->nperf = 0;
	poll_probe__destroy(p->skel);
	p->skel = NULL;
}

/* The tick sampler needs BPF timers in tracing programs; where the kernel
 * refuses them, cpu-clock perf events do the same job at a higher cost. */
static int load_and_attach(struct tg_probe *p, const struct tg_probe_opts *o, char *err, size_t errlen)
{
	int r;

	p->sampler = !o->sample_rate ? SAMPLER_OFF : getenv("TG_PERF_SAMPLER") ? SAMPLER_PERF : SAMPLER_TICK;
	r = load(p, o, err, errlen);
	if (!r)
		r = attach_all(p, o, err, errlen);
	if (r && p->sampler == SAMPLER_TICK && geteuid() == 0) {
		if (getenv("TG_LIBBPF_DEBUG"))
			fprintf(stderr, "tokio-guard: tick sampler unavailable (%s), using perf events\n", err);
		unload(p);
		p->sampler = SAMPLER_PERF;
		r = load(p, o, err, errlen);
		if (!r)
			r = attach_all(p, o, err, errlen);
	}
	return r;
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
	p->ncpus = libbpf_num_possible_cpus();
	if ((r = load_and_attach(p, o, err, errlen)))
		goto err;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events),
				 (ring_buffer_sample_fn)o->on_event, o->ctx, NULL);
	p->percpu_buf = calloc((size_t)p->ncpus, sizeof(struct tg_site_stats));
	if (!p->rb || !p->percpu_buf) {
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
	int r = ring_buffer__poll(p->rb, timeout_ms);

	if (r < 0 && r != -EINTR)
		return r;
	/* Events are submitted without wakeups until the ring fills up: drain
	 * whatever came in while we slept. */
	r = ring_buffer__consume(p->rb);
	return r == -EINTR ? 0 : r;
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

int tg_probe_read_site(struct tg_probe *p, uint32_t site, struct tg_site_stats *out)
{
	struct tg_site_stats *v = p->percpu_buf;
	int fd = bpf_map__fd(p->skel->maps.site_stats);

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &site, v))
		return -errno;
	for (int c = 0; c < p->ncpus; c++) {
		out->polls += v[c].polls;
		out->busy_ns += v[c].busy_ns;
		out->blocking_spans += v[c].blocking_spans;
		if (v[c].max_ns > out->max_ns)
			out->max_ns = v[c].max_ns;
		for (size_t b = 0; b < TG_HIST_BUCKETS; b++)
			out->hist[b] += v[c].hist[b];
	}
	return 0;
}

size_t tg_probe_attached(const struct tg_probe *p)
{
	return p->nlinks;
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
	free(p->links);
	free(p->perf_fds);
	free(p->percpu_buf);
	free(p);
}
