/* probe.heap's call sites. A stack's site is the innermost frame of the
 * program's own code, as a blocking span's culprit is: the line that asked
 * for the memory, not the Vec or Box code that did. Stacks with no own code
 * (the runtime's own allocations) go to the first frame past the allocator
 * and collections, marked not own. */
#include "heap_sites.h"
#include "heap_probe.h"
#include "names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INLINE 16

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int tg_heap_add(struct tg_heap_report *r, const char *function, const char *file, int line, bool own,
		uint64_t allocs, uint64_t bytes, int64_t live_bytes)
{
	struct tg_heap_site *s;

	for (size_t i = 0; i < r->nsites; i++) {
		s = &r->sites[i];
		if (s->line == line && same(s->function, function) && same(s->file, file)) {
			s->allocs += allocs;
			s->bytes += bytes;
			s->live_bytes += live_bytes;
			return 0;
		}
	}
	if (r->nsites == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct tg_heap_site *v = realloc(r->sites, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->sites = v;
		r->cap = ncap;
	}
	s = &r->sites[r->nsites];
	*s = (struct tg_heap_site){ .function = strdup(function ? function : "[unknown]"),
				    .file = file ? strdup(file) : NULL, .line = line, .own = own,
				    .allocs = allocs, .bytes = bytes, .live_bytes = live_bytes };
	if (!s->function || (file && !s->file)) {
		free(s->function);
		free(s->file);
		return -ENOMEM;
	}
	r->nsites++;
	return 0;
}

static int by_live(const void *a, const void *b)
{
	const struct tg_heap_site *x = a, *y = b;

	if (x->live_bytes != y->live_bytes)
		return x->live_bytes < y->live_bytes ? 1 : -1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->function, y->function);
}

void tg_heap_sort(struct tg_heap_report *r)
{
	if (r->nsites > 1)
		qsort(r->sites, r->nsites, sizeof(*r->sites), by_live);
}

/* the allocator, collections and smart pointers: where no one asked for memory */
static bool plumbing(const char *fn)
{
	static const char *const pre[] = { "alloc::", "core::", "<alloc::", "<core::", "__r",
					   "std::alloc", "hashbrown::", "<hashbrown::" };

	if (!fn || fn[0] == '[')
		return true;
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (strncmp(fn, pre[i], strlen(pre[i])) == 0)
			return true;
	return false;
}

/* The site of one stack: its innermost own frame, else its first frame past
 * the plumbing, else its first frame. */
static void site_of(struct tg_symbolizer *sz, const struct tg_heap_stack *st, struct tg_frame *site,
		    bool *own)
{
	struct tg_frame f[MAX_INLINE];
	bool have_other = false;
	uint64_t nr = st->nr < TG_HEAP_DEPTH ? st->nr : TG_HEAP_DEPTH;

	*own = false;
	*site = (struct tg_frame){ .function = "[unknown]" };
	for (uint64_t i = 0; i < nr; i++) {
		int n = tg_symbolize(sz, st->ips[i], true, f, MAX_INLINE);

		for (int j = 0; j < n; j++) {
			if (f[j].own) {
				*site = f[j];
				*own = true;
				return;
			}
			if (!have_other && !plumbing(f[j].function)) {
				*site = f[j];
				have_other = true;
			}
		}
		if (i == 0 && !have_other && n > 0)
			*site = f[0];
	}
}

int tg_heap_build(struct tg_heap_report *r, const struct tg_heap_snapshot *snap,
		  struct tg_symbolizer *sz, double window_s)
{
	int rc = 0;

	/* Growth is what the stacks hold, not the running total: the maps are
	 * read one after the other while the target runs, and frees between the
	 * two reads (a server closing its connections) would set them apart.
	 * Live at attach is 0: nothing older is seen. */
	r->live_bytes = snap->totals.live;
	r->peak_live_bytes = snap->totals.peak;
	r->growth_bytes = 0;
	for (size_t i = 0; i < snap->n; i++)
		r->growth_bytes += snap->stacks[i].live_bytes;
	if (r->peak_live_bytes < r->growth_bytes)
		r->peak_live_bytes = r->growth_bytes;
	memcpy(r->stats, snap->totals.stats, sizeof(r->stats));
	r->window_s = window_s;
	for (size_t i = 0; i < snap->n && !rc; i++) {
		const struct tg_heap_stack *st = &snap->stacks[i];
		struct tg_frame site;
		bool own;

		if (!st->allocs && !st->live_bytes)
			continue;
		if (snap->keys[i] == 0 || !sz) {
			rc = tg_heap_add(r, "[no stack]", NULL, 0, false, st->allocs, st->bytes,
					 st->live_bytes);
			continue;
		}
		site_of(sz, st, &site, &own);
		rc = tg_heap_add(r, site.function, site.file, site.line, own, st->allocs, st->bytes,
				 st->live_bytes);
	}
	tg_heap_sort(r);
	return rc;
}

double tg_heap_alloc_rate(const struct tg_heap_report *r, const char *glob)
{
	uint64_t n = 0;

	if (r->window_s <= 0)
		return 0;
	for (size_t i = 0; i < r->nsites; i++)
		if (!glob || tg_glob_match(glob, r->sites[i].function))
			n += r->sites[i].allocs;
	return (double)n / r->window_s;
}

int64_t tg_heap_live(const struct tg_heap_report *r, const char *glob)
{
	int64_t n = 0;

	if (!glob)
		return r->growth_bytes;
	for (size_t i = 0; i < r->nsites; i++)
		if (tg_glob_match(glob, r->sites[i].function))
			n += r->sites[i].live_bytes;
	return n;
}

void tg_heap_format_bytes(uint64_t n, char *buf, size_t len)
{
	if (n >= 1ull << 30)
		snprintf(buf, len, "%.1fGB", (double)n / (double)(1ull << 30));
	else if (n >= 1ull << 20)
		snprintf(buf, len, "%.1fMB", (double)n / (double)(1ull << 20));
	else if (n >= 1ull << 10)
		snprintf(buf, len, "%.1fKB", (double)n / 1024.0);
	else
		snprintf(buf, len, "%" PRIu64 "B", n);
}

void tg_heap_free(struct tg_heap_report *r)
{
	for (size_t i = 0; i < r->nsites; i++) {
		free(r->sites[i].function);
		free(r->sites[i].file);
	}
	free(r->sites);
	memset(r, 0, sizeof(*r));
}
