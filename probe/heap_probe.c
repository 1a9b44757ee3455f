// SPDX-License-Identifier: MIT
/* probe.heap. Every Rust allocation goes through the shims the compiler
 * generates (__rust_alloc & co.), which jump to the #[global_allocator]'s
 * __rg_* functions or to std's default __rdl_*: a probe on the shim sees
 * both. One symbol per role is probed, the first of __rust_X, __rg_X, __rdl_X
 * the binary has, so no call is counted twice. With LTO the shims may be
 * inlined into their callers (a release-lto build keeps __rust_alloc and
 * __rust_realloc but no dealloc at all): calls inlined so are not seen. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_object.h"
#include "fn_sites.h"
#include "heap_probe.h"
#include "links.h"
#include "uprobe_perf.h"

TG_BPF_EMBEDDED(heap);

enum role { R_ALLOC, R_ZEROED, R_REALLOC, R_FREE, R__COUNT };

static const char *const role_names[R__COUNT] = { "alloc", "alloc_zeroed", "realloc", "dealloc" };

struct tg_heap_probe {
	struct bpf_object *obj;
	struct tg_links links;
	uint64_t off[R__COUNT]; /* file offsets; 0: not found */
	char sym[R__COUNT][32];
	char symbols[160];
};

/* "__rustc::__rust_alloc" (v0) or "__rust_alloc" (legacy): the last path segment */
static const char *last_segment(const char *name)
{
	const char *s = strrchr(name, ':');

	return s ? s + 1 : name;
}

static void pick_symbols(struct tg_heap_probe *p, const struct tg_fn_sites *fs)
{
	static const char *const families[] = { "__rust_", "__rg_", "__rdl_" };
	char want[32];

	for (int r = 0; r < R__COUNT; r++)
		for (size_t f = 0; f < 3 && !p->off[r]; f++) {
			snprintf(want, sizeof(want), "%s%s", families[f], role_names[r]);
			for (size_t i = 0; i < fs->n; i++)
				if (strcmp(last_segment(fs->v[i].name), want) == 0) {
					p->off[r] = fs->v[i].offset;
					snprintf(p->sym[r], sizeof(p->sym[r]), "%s", want);
					break;
				}
		}
	p->symbols[0] = 0;
	for (int r = 0; r < R__COUNT; r++) {
		size_t n = strlen(p->symbols);

		snprintf(p->symbols + n, sizeof(p->symbols) - n, "%s%s=%s", n ? " " : "", role_names[r],
			 p->off[r] ? p->sym[r] : "-");
	}
}

static int attach(struct tg_heap_probe *p, const char *exe, pid_t pid, const char *prog_name,
		  uint64_t off, bool ret)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(p->obj, prog_name);
	int pfd, lfd, r;

	if (!prog)
		return -ENOENT;
	if (!off)
		return 0;
	if ((lfd = tg_uprobe_perf_attach(bpf_program__fd(prog), exe, pid, off, 0, ret, &pfd)) < 0)
		return lfd;
	if ((r = tg_links_add_slow(&p->links, lfd))) {
		close(pfd);
		return r;
	}
	return tg_links_add_slow(&p->links, pfd);
}

static int attach_all(struct tg_heap_probe *p, const char *exe, pid_t pid)
{
	int r = 0;

	for (int k = R_ALLOC; k <= R_ZEROED && !r; k++)
		if (!(r = attach(p, exe, pid, "alloc_enter", p->off[k], false)))
			r = attach(p, exe, pid, "alloc_exit", p->off[k], true);
	if (!r && !(r = attach(p, exe, pid, "realloc_enter", p->off[R_REALLOC], false)))
		r = attach(p, exe, pid, "alloc_exit", p->off[R_REALLOC], true);
	if (!r)
		r = attach(p, exe, pid, "free_enter", p->off[R_FREE], false);
	return r;
}

/* the unknown site (no stack, or the stack map full) exists from the start */
static int add_unknown_site(struct tg_heap_probe *p)
{
	struct bpf_map *m = bpf_object__find_map_by_name(p->obj, "stacks");
	struct tg_heap_stack *zero = calloc(1, sizeof(*zero));
	uint64_t key = 0;
	int r = -ENOMEM;

	if (m && zero)
		r = bpf_map_update_elem(bpf_map__fd(m), &key, zero, BPF_ANY) ? -errno : 0;
	free(zero);
	return m ? r : -ENOENT;
}

static int fail(char *err, size_t errlen, int r, const char *what, const char *todo)
{
	snprintf(err, errlen, "probe.heap: %s: %s; %s", what, strerror(r < 0 ? -r : r), todo);
	return r < 0 ? r : -r;
}

static int load(struct tg_heap_probe *p, pid_t pid, char *err, size_t errlen)
{
	uint32_t *tgid;

	p->obj = tg_bpf_open(tg_bpf_heap, TG_BPF_EMBEDDED_SIZE(heap), "heap");
	if (!p->obj)
		return fail(err, errlen, -errno, "opening the embedded heap BPF object",
			    "rebuild tokio-guard");
	if (!(tgid = tg_bpf_var_init(p->obj, ".rodata", "target_tgid", sizeof(*tgid))))
		return fail(err, errlen, -errno, "the heap BPF object has no target_tgid",
			    "rebuild tokio-guard");
	*tgid = (uint32_t)pid;
	if (bpf_object__load(p->obj))
		return fail(err, errlen, -errno, "loading the heap BPF programs",
			    "run as root on a kernel with BPF atomics (5.12+), or set probe.heap: false");
	return 0;
}

int tg_heap_probe_open(const char *exe, pid_t pid, struct tg_heap_probe **out, char *err,
		       size_t errlen)
{
	struct tg_heap_probe *p = calloc(1, sizeof(*p));
	struct tg_fn_sites fs;
	int r;

	*out = NULL;
	if (!p)
		return fail(err, errlen, -ENOMEM, "out of memory", "free some memory");
	if ((r = tg_find_functions(exe, "*alloc*", 1u << 20, &fs, err, errlen))) {
		free(p);
		return r;
	}
	pick_symbols(p, &fs);
	tg_fn_sites_free(&fs);
	if (!p->off[R_ALLOC]) {
		free(p);
		snprintf(err, errlen, "probe.heap: %s has no Rust allocator symbol (__rust_alloc, __rg_alloc "
			 "or __rdl_alloc): build it without stripping symbols, or set probe.heap: false", exe);
		return -ENOENT;
	}
	if ((r = load(p, pid, err, errlen)) || (r = add_unknown_site(p)) ||
	    (r = attach_all(p, exe, pid))) {
		if (!err[0] || r == -ENOENT || strncmp(err, "probe.heap", 10))
			fail(err, errlen, r, "attaching uprobes to the allocator",
			     "run as root, or set probe.heap: false");
		tg_heap_probe_close(p);
		return r;
	}
	*out = p;
	return 0;
}

const char *tg_heap_probe_symbols(const struct tg_heap_probe *p)
{
	return p ? p->symbols : "";
}

bool tg_heap_probe_sees_frees(const struct tg_heap_probe *p)
{
	return p && p->off[R_FREE];
}

static int read_stacks(struct tg_heap_probe *p, struct tg_heap_snapshot *out)
{
	struct bpf_map *m = bpf_object__find_map_by_name(p->obj, "stacks");
	size_t cap = TG_HEAP_MAX_STACKS + 1;
	uint64_t key, next, *prev = NULL;
	int fd;

	if (!m)
		return -ENOENT;
	fd = bpf_map__fd(m);
	out->keys = calloc(cap, sizeof(*out->keys));
	out->stacks = calloc(cap, sizeof(*out->stacks));
	if (!out->keys || !out->stacks)
		return -ENOMEM;
	while (out->n < cap && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &out->stacks[out->n]) == 0)
			out->keys[out->n++] = key;
		prev = &key;
	}
	return 0;
}

int tg_heap_probe_read(struct tg_heap_probe *p, struct tg_heap_snapshot *out)
{
	struct timespec ts;
	int r;

	memset(out, 0, sizeof(*out));
	if (!p)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	out->at_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if ((r = tg_bpf_var_read(p->obj, ".bss", "totals", &out->totals, sizeof(out->totals))) ||
	    (r = read_stacks(p, out)))
		tg_heap_snapshot_free(out);
	return r;
}

void tg_heap_snapshot_free(struct tg_heap_snapshot *s)
{
	free(s->keys);
	free(s->stacks);
	s->keys = NULL;
	s->stacks = NULL;
	s->n = 0;
}

void tg_heap_probe_close(struct tg_heap_probe *p)
{
	if (!p)
		return;
	tg_links_free(&p->links);
	bpf_object__close(p->obj);
	free(p);
}
