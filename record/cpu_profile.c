/* Raw stacks are kept by value (a hash of their addresses) so that a run of
 * any length costs memory per distinct stack, not per sample; symbols are
 * looked up once per distinct stack at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_profile.h"
#include "cpu_profile_event.h"
#include "glob.h"
#include "symbolize.h"
#include "unwind.h"

#define LINES_PER_FN 6 /* lines remembered per function: the most sampled wins */
#define MAX_FRAMES 512 /* symbolized frames per stack, inlined ones included */

struct raw {
	uint64_t hash, count;
	uint32_t n;
	uint64_t *ips;
};

struct fn {
	char *function;
	uint64_t self, total, stamp; /* stamp: the last stack counted in total */
	struct { const char *file; int line; uint64_t count; } lines[LINES_PER_FN];
	size_t nlines;
};

struct folded {
	uint32_t *fns; /* outermost first */
	size_t n;
	uint64_t count;
};

struct tg_cpu_profile {
	uint32_t hz;
	struct raw *raw;      /* open addressing, nraw_cap a power of two */
	size_t nraw, nraw_cap;
	struct fn *fns;
	size_t nfns, fns_cap;
	uint32_t *fn_slots;   /* name hash -> index + 1 */
	size_t fn_slots_cap;
	char **files;         /* interned file names */
	size_t nfiles;
	struct folded *folded;
	size_t nfolded, folded_cap;
	uint64_t samples, lost, stamp;
	struct tg_symbolizer *const *sz;
	pthread_mutex_t *lock;
};

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct tg_cpu_profile *tg_cpu_profile_new(uint32_t hz)
{
	struct tg_cpu_profile *p = calloc(1, sizeof(*p));

	if (p)
		p->hz = hz;
	return p;
}

void tg_cpu_profile_free(struct tg_cpu_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nraw_cap; i++)
		free(p->raw[i].ips);
	for (size_t i = 0; i < p->nfns; i++)
		free(p->fns[i].function);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	for (size_t i = 0; i < p->nfolded; i++)
		free(p->folded[i].fns);
	free(p->raw);
	free(p->fns);
	free(p->fn_slots);
	free(p->files);
	free(p->folded);
	free(p);
}

void tg_cpu_profile_set_unwinder(struct tg_cpu_profile *p, struct tg_symbolizer *const *sz,
				 pthread_mutex_t *lock)
{
	p->sz = sz;
	p->lock = lock;
}

void tg_cpu_profile_set_lost(struct tg_cpu_profile *p, uint64_t lost, uint64_t nostack)
{
	p->lost = lost + nostack;
}

/* ---------------------------------------------------------------- raw stacks */

static int raw_grow(struct tg_cpu_profile *p)
{
	size_t cap = p->nraw_cap ? p->nraw_cap * 2 : 1024;
	struct raw *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nraw_cap; i++) {
		size_t k = p->raw[i].hash & (cap - 1);

		if (!p->raw[i].ips)
			continue;
		while (v[k].ips)
			k = (k + 1) & (cap - 1);
		v[k] = p->raw[i];
	}
	free(p->raw);
	p->raw = v;
	p->nraw_cap = cap;
	return 0;
}

int tg_cpu_profile_add_raw(struct tg_cpu_profile *p, const uint64_t *ips, uint32_t n)
{
	uint64_t h = n;
	size_t k;

	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		h = mix(h, ips[i]);
	if ((p->nraw + 1) * 2 > p->nraw_cap && raw_grow(p))
		return -ENOMEM;
	for (k = h & (p->nraw_cap - 1); p->raw[k].ips; k = (k + 1) & (p->nraw_cap - 1)) {
		struct raw *r = &p->raw[k];

		if (r->hash == h && r->n == n && !memcmp(r->ips, ips, n * sizeof(*ips))) {
			r->count++;
			return 0;
		}
	}
	if (!(p->raw[k].ips = malloc(n * sizeof(*ips))))
		return -ENOMEM;
	memcpy(p->raw[k].ips, ips, n * sizeof(*ips));
	p->raw[k].n = n;
	p->raw[k].hash = h;
	p->raw[k].count = 1;
	p->nraw++;
	return 0;
}

static int add_copy(struct tg_cpu_profile *p, const struct tg_copy_event *e, size_t size)
{
	struct tg_stack_copy *c = tg_stack_copy_new(e, size);
	uint64_t ips[TG_MAX_STACK_DEPTH];
	uint32_t n = 0;
	bool truncated;

	if (!c || !p->sz || !p->lock) {
		free(c);
		p->lost++;
		return 0;
	}
	pthread_mutex_lock(p->lock);
	if (*p->sz)
		n = tg_unwind(*p->sz, c, ips, TG_MAX_STACK_DEPTH, &truncated);
	pthread_mutex_unlock(p->lock);
	free(c);
	if (!n)
		p->lost++;
	return tg_cpu_profile_add_raw(p, ips, n);
}

int tg_cpu_profile_on_sample(void *ctx, void *data, size_t size)
{
	struct tg_cpu_profile *p = ctx;
	const struct tg_cpu_sample *s = data;

	if (size >= sizeof(uint32_t) && s->type == TG_EV_SAMPLE_COPY)
		return add_copy(p, data, size);
	if (size < offsetof(struct tg_cpu_sample, ips) || s->type != TG_EV_CPU_SAMPLE)
		return 0;
	return tg_cpu_profile_add_raw(p, (const uint64_t *)s->ips, s->nr < TG_MAX_STACK_DEPTH ? s->nr : TG_MAX_STACK_DEPTH);
}

/* --------------------------------------------------------------- aggregation */

static const char *intern_file(struct tg_cpu_profile *p, const char *file)
{
	char **v;

	if (!file)
		return NULL;
	for (size_t i = p->nfiles; i-- > 0;) /* few files: the latest is the likeliest */
		if (!strcmp(p->files[i], file))
			return p->files[i];
	if (!(v = realloc(p->files, (p->nfiles + 1) * sizeof(*v))))
		return NULL;
	p->files = v;
	return (v[p->nfiles] = strdup(file)) ? v[p->nfiles++] : NULL;
}

static int fn_slots_grow(struct tg_cpu_profile *p)
{
	size_t cap = p->fn_slots_cap ? p->fn_slots_cap * 2 : 1024;
	uint32_t *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nfns; i++) {
		size_t k = str_hash(p->fns[i].function) & (cap - 1);

		while (v[k])
			k = (k + 1) & (cap - 1);
		v[k] = (uint32_t)i + 1;
	}
	free(p->fn_slots);
	p->fn_slots = v;
	p->fn_slots_cap = cap;
	return 0;
}

/* The index of NAME's function, added when new; -1 when out of memory. */
static long fn_index(struct tg_cpu_profile *p, const char *name)
{
	size_t k;

	if ((p->nfns + 1) * 2 > p->fn_slots_cap && fn_slots_grow(p))
		return -1;
	for (k = str_hash(name) & (p->fn_slots_cap - 1); p->fn_slots[k]; k = (k + 1) & (p->fn_slots_cap - 1))
		if (!strcmp(p->fns[p->fn_slots[k] - 1].function, name))
			return (long)p->fn_slots[k] - 1;
	if (p->nfns == p->fns_cap) {
		size_t cap = p->fns_cap ? p->fns_cap * 2 : 256;
		struct fn *v = realloc(p->fns, cap * sizeof(*v));

		if (!v)
			return -1;
		p->fns = v;
		p->fns_cap = cap;
	}
	memset(&p->fns[p->nfns], 0, sizeof(p->fns[0]));
	if (!(p->fns[p->nfns].function = strdup(name)))
		return -1;
	p->fn_slots[k] = (uint32_t)p->nfns + 1;
	return (long)p->nfns++;
}

/* The line F was at counts COUNT more; a full table forgets its least line. */
static void count_line(struct tg_cpu_profile *p, struct fn *f, const struct tg_cpu_frame *fr,
		       uint64_t count)
{
	const char *file = intern_file(p, fr->file);
	size_t least = 0;

	if (!fr->line)
		return;
	for (size_t i = 0; i < f->nlines; i++) {
		if (f->lines[i].line == fr->line && f->lines[i].file == file) {
			f->lines[i].count += count;
			return;
		}
		if (f->lines[i].count < f->lines[least].count)
			least = i;
	}
	if (f->nlines < LINES_PER_FN)
		least = f->nlines++;
	else if (f->lines[least].count > count)
		return;
	f->lines[least].file = file;
	f->lines[least].line = fr->line;
	f->lines[least].count = count;
}

static const char *frame_name(const struct tg_cpu_frame *f)
{
	return f->function && f->function[0] ? f->function : "[unknown]";
}

int tg_cpu_profile_add_stack(struct tg_cpu_profile *p, const struct tg_cpu_frame *f, size_t n,
			     uint64_t count)
{
	struct folded *d;

	if (!n || !count)
		return 0;
	if (p->nfolded == p->folded_cap) {
		size_t cap = p->folded_cap ? p->folded_cap * 2 : 256;
		struct folded *v = realloc(p->folded, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->folded = v;
		p->folded_cap = cap;
	}
	d = &p->folded[p->nfolded];
	if (!(d->fns = malloc(n * sizeof(*d->fns))))
		return -ENOMEM;
	d->n = n;
	d->count = count;
	p->stamp++;
	for (size_t i = 0; i < n; i++) {
		long k = fn_index(p, frame_name(&f[i]));

		if (k < 0) {
			free(d->fns);
			return -ENOMEM;
		}
		d->fns[n - 1 - i] = (uint32_t)k; /* outermost first */
		if (i == 0)
			p->fns[k].self += count;
		if (p->fns[k].stamp != p->stamp) { /* recursion counts once */
			p->fns[k].stamp = p->stamp;
			p->fns[k].total += count;
			count_line(p, &p->fns[k], &f[i], count);
		}
	}
	p->nfolded++;
	p->samples += count;
	return 0;
}

/* One raw stack symbolized, inlined frames included, innermost first. */
static int resolve_one(struct tg_cpu_profile *p, struct tg_symbolizer *sz, const struct raw *r,
		       struct tg_frame *tmp, struct tg_cpu_frame *out)
{
	size_t n = 0;

	for (uint32_t i = 0; i < r->n && n < MAX_FRAMES; i++) {
		int k = tg_symbolize(sz, r->ips[i], i > 0, tmp, (int)(MAX_FRAMES - n));

		for (int j = 0; j < k; j++)
			out[n++] = (struct tg_cpu_frame){ tmp[j].function, tmp[j].file, tmp[j].line };
	}
	return tg_cpu_profile_add_stack(p, out, n, r->count);
}

int tg_cpu_profile_resolve(struct tg_cpu_profile *p, struct tg_symbolizer *sz)
{
	struct tg_frame *tmp = calloc(MAX_FRAMES, sizeof(*tmp));
	struct tg_cpu_frame *out = calloc(MAX_FRAMES, sizeof(*out));
	int r = tmp && out ? 0 : -ENOMEM;

	for (size_t i = 0; !r && sz && i < p->nraw_cap; i++) {
		if (!p->raw[i].ips)
			continue;
		r = resolve_one(p, sz, &p->raw[i], tmp, out);
		free(p->raw[i].ips);
		p->raw[i].ips = NULL;
	}
	p->nraw = 0;
	free(tmp);
	free(out);
	return r;
}

/* ------------------------------------------------------------------ answers */

uint32_t tg_cpu_profile_hz(const struct tg_cpu_profile *p)
{
	return p->hz;
}

uint64_t tg_cpu_profile_samples(const struct tg_cpu_profile *p)
{
	return p->samples;
}

uint64_t tg_cpu_profile_lost(const struct tg_cpu_profile *p)
{
	return p->lost;
}

static double pct(const struct tg_cpu_profile *p, uint64_t n)
{
	return p->samples ? 100.0 * (double)n / (double)p->samples : 0;
}

static struct tg_cpu_fn fn_out(const struct tg_cpu_profile *p, const struct fn *f)
{
	struct tg_cpu_fn o = { .function = f->function, .self = f->self, .total = f->total,
			       .self_pct = pct(p, f->self), .total_pct = pct(p, f->total) };
	size_t best = 0;

	for (size_t i = 1; i < f->nlines; i++)
		if (f->lines[i].count > f->lines[best].count)
			best = i;
	if (f->nlines) {
		o.file = f->lines[best].file;
		o.line = f->lines[best].line;
	}
	return o;
}

static int by_self(const void *a, const void *b)
{
	const struct fn *x = *(const struct fn *const *)a, *y = *(const struct fn *const *)b;

	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->function, y->function);
}

static int by_total(const void *a, const void *b)
{
	const struct fn *x = *(const struct fn *const *)a, *y = *(const struct fn *const *)b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->function, y->function);
}

size_t tg_cpu_profile_top(const struct tg_cpu_profile *p, struct tg_cpu_fn *out, size_t max,
			  double min_total_pct)
{
	const struct fn **v = calloc(p->nfns ? p->nfns : 1, sizeof(*v));
	size_t n = 0, m = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < p->nfns; i++)
		v[i] = &p->fns[i];
	qsort(v, p->nfns, sizeof(*v), by_self);
	for (; m < p->nfns && n < max && v[m]->self; m++)
		out[n++] = fn_out(p, v[m]);
	/* the callers that hold the time: whatever they call does the work */
	qsort(v + m, p->nfns - m, sizeof(*v), by_total);
	for (; m < p->nfns && n < max && pct(p, v[m]->total) >= min_total_pct; m++)
		out[n++] = fn_out(p, v[m]);
	free(v);
	return n;
}

double tg_cpu_profile_share(const struct tg_cpu_profile *p, const char *glob, bool *matched)
{
	bool *hit = calloc(p->nfns ? p->nfns : 1, sizeof(*hit));
	uint64_t n = 0;

	*matched = false;
	if (!hit)
		return 0;
	for (size_t i = 0; i < p->nfns; i++)
		if ((hit[i] = tg_glob_match(glob, p->fns[i].function)))
			*matched = true;
	for (size_t i = 0; *matched && i < p->nfolded; i++) {
		for (size_t j = 0; j < p->folded[i].n; j++)
			if (hit[p->folded[i].fns[j]]) {
				n += p->folded[i].count;
				break;
			}
	}
	free(hit);
	return pct(p, n);
}

/* ------------------------------------------------------------------- folded */

/* A frame as folded text: ';' separates frames, so one inside a name
 * (`[u8; 4]`) becomes ',' ; a newline would end the line. */
static void put_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ',' : *s == '\n' ? ' ' : *s, f);
}

struct line {
	char *text;
	size_t len;
	uint64_t count;
};

static int by_text(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

int tg_cpu_profile_write_folded(const struct tg_cpu_profile *p, FILE *f)
{
	struct line *v = calloc(p->nfolded ? p->nfolded : 1, sizeof(*v));
	int r = v ? 0 : -ENOMEM;

	for (size_t i = 0; !r && i < p->nfolded; i++) {
		FILE *m = open_memstream(&v[i].text, &v[i].len);

		if (!m) {
			r = -errno;
			break;
		}
		for (size_t j = 0; j < p->folded[i].n; j++) {
			if (j)
				fputc(';', m);
			put_name(m, p->fns[p->folded[i].fns[j]].function);
		}
		v[i].count = p->folded[i].count;
		if (fclose(m))
			r = -ENOMEM;
	}
	if (!r) /* distinct raw stacks may symbolize alike: merge them */
		qsort(v, p->nfolded, sizeof(*v), by_text);
	for (size_t i = 0; !r && i < p->nfolded;) {
		size_t j = i + 1;
		uint64_t c = v[i].count;

		for (; j < p->nfolded && !strcmp(v[j].text, v[i].text); j++)
			c += v[j].count;
		if (fprintf(f, "%s %llu\n", v[i].text, (unsigned long long)c) < 0)
			r = -EIO;
		i = j;
	}
	for (size_t i = 0; v && i < p->nfolded; i++)
		free(v[i].text);
	free(v);
	return r;
}
