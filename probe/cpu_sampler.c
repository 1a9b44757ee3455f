// SPDX-License-Identifier: MIT
/* One perf event per CPU with pid -1 (the BPF side keeps the target's tgid):
 * threads the target starts later are sampled too, which per-thread events
 * would miss and inherited ones would not tell apart from its children. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_object.h"
#include "cpu_sampler.h"

TG_BPF_EMBEDDED(cpu_profile);

#define RING_FP (8u << 20)
#define RING_DWARF (64u << 20) /* a copy is 20 KB: a few hundred ms of samples on 2 CPUs at 999 Hz */

struct tg_cpu_sampler {
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ring_buffer *rb;
	struct bpf_map *counts;
	struct bpf_link **links;
	int nlinks;
};

static int fail(char *err, size_t errlen, int r, const char *what)
{
	snprintf(err, errlen, "probe.cpu_profile: %s: %s (run as root, on a kernel with BPF perf_event "
		 "programs; or leave probe.cpu_profile at 0)", what, strerror(-r));
	return r;
}

static int set_u32(struct bpf_object *o, const char *name, uint32_t v)
{
	uint32_t *p = tg_bpf_var_init(o, ".rodata", name, sizeof(v));

	if (!p)
		return -errno;
	*p = v;
	return 0;
}

static int configure(struct tg_cpu_sampler *s, const struct tg_cpu_sampler_opts *o)
{
	uint32_t depth = o->stack_depth && o->stack_depth < TG_MAX_STACK_DEPTH ? o->stack_depth :
										   TG_MAX_STACK_DEPTH;
	uint32_t pages = (o->stack_copy ? o->stack_copy : 16384) / TG_COPY_PAGE + 1;
	bool *dwarf = tg_bpf_var_init(s->obj, ".rodata", "unwind_dwarf", sizeof(bool));
	struct bpf_map *ring = bpf_object__find_map_by_name(s->obj, "samples");
	int r;

	if (pages > TG_COPY_MAX_PAGES)
		pages = TG_COPY_MAX_PAGES;
	s->prog = bpf_object__find_program_by_name(s->obj, "on_cpu_sample");
	s->counts = bpf_object__find_map_by_name(s->obj, "counts");
	if (!s->prog || !s->counts || !ring || !dwarf)
		return -ENOENT;
	*dwarf = o->unwind_dwarf;
	if ((r = set_u32(s->obj, "target_tgid", (uint32_t)o->pid)) ||
	    (r = set_u32(s->obj, "stack_bytes", depth * 8)) || (r = set_u32(s->obj, "copy_pages", pages)))
		return r;
	return bpf_map__set_max_entries(ring, o->unwind_dwarf ? RING_DWARF : RING_FP);
}

static int open_event(int cpu, uint32_t hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.sample_period = 1000000000ull / hz, /* cpu-clock counts ns: a fixed period, not freq */
	};

	return (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static int attach(struct tg_cpu_sampler *s, uint32_t hz)
{
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -ENODEV;
	if (!(s->links = calloc((size_t)ncpus, sizeof(*s->links))))
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		int fd = open_event(cpu, hz);

		if (fd < 0) {
			if (errno == ENODEV) /* offline CPU */
				continue;
			return -errno;
		}
		/* the link owns the perf event from here */
		if (!(s->links[s->nlinks] = bpf_program__attach_perf_event(s->prog, fd))) {
			int r = -errno;

			close(fd);
			return r;
		}
		s->nlinks++;
	}
	return s->nlinks ? 0 : -ENODEV;
}

int tg_cpu_sampler_open(const struct tg_cpu_sampler_opts *o, struct tg_cpu_sampler **out, char *err,
			size_t errlen)
{
	struct tg_cpu_sampler *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (!s)
		return fail(err, errlen, -ENOMEM, "cannot allocate");
	if (!(s->obj = tg_bpf_open(tg_bpf_cpu_profile, TG_BPF_EMBEDDED_SIZE(cpu_profile), "cpu_profile"))) {
		r = -errno;
		free(s);
		return fail(err, errlen, r, "cannot open the embedded BPF object");
	}
	if ((r = configure(s, o))) {
		tg_cpu_sampler_close(s);
		return fail(err, errlen, r, "the embedded BPF object does not match this build");
	}
	if ((r = bpf_object__load(s->obj))) {
		tg_cpu_sampler_close(s);
		return fail(err, errlen, r, "cannot load the sampler");
	}
	if ((r = attach(s, o->hz))) {
		tg_cpu_sampler_close(s);
		return fail(err, errlen, r, "cannot open a cpu-clock perf event per CPU");
	}
	s->rb = ring_buffer__new(bpf_object__find_map_fd_by_name(s->obj, "samples"),
				 (ring_buffer_sample_fn)o->on_sample, o->ctx, NULL);
	if (!s->rb) {
		r = -errno;
		tg_cpu_sampler_close(s);
		return fail(err, errlen, r, "cannot map the sample ring buffer");
	}
	*out = s;
	return 0;
}

int tg_cpu_sampler_consume(struct tg_cpu_sampler *s)
{
	int r = ring_buffer__consume(s->rb);

	return r == -EINTR ? 0 : r;
}

void tg_cpu_sampler_counts(struct tg_cpu_sampler *s, uint64_t *taken, uint64_t *lost, uint64_t *nostack)
{
	uint64_t *out[3] = { taken, lost, nostack };
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *v = ncpus > 0 ? calloc((size_t)ncpus, sizeof(*v)) : NULL;

	for (uint32_t k = 0; k < 3; k++) {
		*out[k] = 0;
		if (!v || bpf_map__lookup_elem(s->counts, &k, sizeof(k), v, (size_t)ncpus * sizeof(*v), 0))
			continue;
		for (int c = 0; c < ncpus; c++)
			*out[k] += v[c];
	}
	free(v);
}

void tg_cpu_sampler_close(struct tg_cpu_sampler *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nlinks; i++)
		bpf_link__destroy(s->links[i]);
	free(s->links);
	ring_buffer__free(s->rb);
	bpf_object__close(s->obj);
	free(s);
}
