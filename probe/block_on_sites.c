// SPDX-License-Identifier: MIT
/* block_on's future, found by its calls. Every block_on (the multi-thread
 * runtime's CachedParkThread::block_on, the current_thread CoreGuard's, and
 * the wrappers around them) polls its future by a direct call, maybe through
 * a few of Tokio's and core's generic helpers (<&mut F as Future>::poll,
 * coop::budget, a context closure). The future's poll is the async body's
 * resume function: the one that panics with "async fn resumed after
 * completion", which tells it from a plain closure of main. Under LTO the
 * block_on is inlined into the crate's main, so main is a root too.
 *
 * The entry and return of that function bound one poll of the future, the
 * same as raw::poll's bound a task's: BPF treats the site like a runtime poll. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block_on_sites.h"
#include "elf_code.h"
#include "names.h"
#include "poll_probe.h"

#define MAX_DEPTH 6     /* helper calls between a block_on and its future's poll */
#define MAX_CALLS 512   /* call targets read per function */
#define MAX_VISIT 4096  /* functions walked in all */
#define RESUMED_PANIC "core::panicking::panic_const::panic_const_async_fn_resumed"

struct walk {
	struct tg_elf_code *code;
	uint64_t *visited;
	size_t nvisited;
	uint64_t found[16];   /* async bodies: function addresses */
	size_t nfound;
};

static bool starts_with(const char *s, const char *p)
{
	return s && strncmp(s, p, strlen(p)) == 0;
}

static bool library_code(const char *name)
{
	static const char *const libs[] = { "tokio::", "core::", "std::", "alloc::", "<", NULL };

	for (size_t i = 0; libs[i]; i++)
		if (starts_with(name, libs[i]))
			return true;
	return false;
}

/* Helpers a future's poll passes through on its way from block_on: Tokio's
 * runtime (but never a task's harness: raw::poll leads to tasks, not to the
 * block_on future), its LocalSet, core's and std's generic glue. */
static bool glue(const char *name)
{
	if (!name || starts_with(name, "tokio::runtime::task::"))
		return false;
	return starts_with(name, "tokio::runtime::") || starts_with(name, "tokio::task::local::") ||
	       starts_with(name, "core::") || starts_with(name, "std::") || starts_with(name, "<") ||
	       strstr(name, "block_on");
}

/* An async body's resume function: it calls the resumed-after-completion panic. */
static bool async_body(struct tg_elf_code *c, uint64_t addr)
{
	uint64_t calls[MAX_CALLS];
	size_t n = tg_elf_call_targets(c, addr, calls, MAX_CALLS);

	for (size_t i = 0; i < n; i++) {
		const char *d = tg_elf_func_dem(c, tg_elf_func_at(c, calls[i]));

		if (starts_with(d, RESUMED_PANIC))
			return true;
	}
	return false;
}

static bool visit(struct walk *w, uint64_t addr)
{
	for (size_t i = 0; i < w->nvisited; i++)
		if (w->visited[i] == addr)
			return false;
	if (w->nvisited == MAX_VISIT)
		return false;
	w->visited[w->nvisited++] = addr;
	return true;
}

static void add_found(struct walk *w, uint64_t addr)
{
	for (size_t i = 0; i < w->nfound; i++)
		if (w->found[i] == addr)
			return;
	if (w->nfound < sizeof w->found / sizeof w->found[0])
		w->found[w->nfound++] = addr;
}

static void walk_from(struct walk *w, uint64_t func, int depth)
{
	uint64_t calls[MAX_CALLS];
	size_t n = tg_elf_call_targets(w->code, func, calls, MAX_CALLS);

	for (size_t i = 0; i < n; i++) {
		size_t fi = tg_elf_func_at(w->code, calls[i]);
		const char *name = tg_elf_func_dem(w->code, fi);

		if (!name || !visit(w, calls[i]))
			continue;
		if (!library_code(name)) {
			if (async_body(w->code, calls[i]))
				add_found(w, calls[i]);
		} else if (depth < MAX_DEPTH && glue(name)) {
			walk_from(w, calls[i], depth + 1);
		}
	}
}

/* "demo::main" for the crate root's fn main: one path segment before it. */
static bool crate_main(const char *name)
{
	const char *sep = name ? strstr(name, "::") : NULL;

	return sep && sep != name && strcmp(sep, "::main") == 0 && !strchr(name, '<') &&
	       !library_code(name);
}

static bool block_on_root(const char *name)
{
	return starts_with(name, "tokio::runtime::") && strstr(name, "block_on") &&
	       !strstr(name, "{{closure}}") && !strstr(name, "{closure#");
}

/* "demo::main::{{closure}}" -> "demo::main (block_on)": the async block's or
 * async fn's path, whatever the mangling spelled its closure segment. */
static char *site_name(const char *dem)
{
	char *s = strdup(dem), *out = NULL, *cut;

	if (!s)
		return NULL;
	tg_strip_turbofish(s);
	while ((cut = strrchr(s, ':')) && cut > s + 1 && cut[-1] == ':' && cut[1] == '{')
		cut[-1] = '\0';
	if (asprintf(&out, "%s (block_on)", s) < 0)
		out = NULL;
	free(s);
	return out;
}

static struct tg_poll_site *new_site(struct tg_poll_sites *sites)
{
	struct tg_poll_site *v = realloc(sites->v, (sites->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	sites->v = v;
	memset(&v[sites->n], 0, sizeof(v[0]));
	return &v[sites->n];
}

/* A site at function FI of C (an async body, or a park), or a site without
 * code of its own when FI is nfuncs (NAME: the polls between parks). */
static int add_site(struct tg_poll_sites *sites, struct tg_elf_code *c, size_t fi, int kind,
		    char *name, int segments)
{
	struct tg_poll_site *s = new_site(sites);
	uint64_t off = 0;

	if (!s || !name) {
		free(name);
		return -ENOMEM;
	}
	if (fi < c->nfuncs && tg_elf_vaddr_to_offset(c->elf, c->funcs[fi].addr, &off)) {
		free(name);
		return 0;
	}
	s->kind = kind;
	s->segments = segments;
	s->task_name = name;
	s->named_by = "symbol";
	if (fi < c->nfuncs) {
		s->addr = c->funcs[fi].addr;
		s->offset = off;
		s->symbol = strdup(c->funcs[fi].name);
		s->future_type = strdup(tg_elf_func_dem(c, fi));
		if (!s->symbol || !s->future_type) {
			free(s->symbol);
			free(s->future_type);
			free(name);
			return -ENOMEM;
		}
	}
	sites->n++;
	return 1;
}

/* The functions a block_on thread parks in, one level of each: a park must
 * not be seen twice. CachedParkThread (multi-thread block_on) parks in
 * Inner::park, or where that was inlined, in its own methods; a
 * current_thread runtime parks in its driver, through its Context. Both of
 * those are probed: Context::park inlines Driver::park (tokio 1.4x), and
 * LTO may inline Context::park instead; a segment opens only at depth 0, so
 * the inner return opens it and the outer one does nothing. */
static const char *const park_levels[][5] = {
	{ "tokio::runtime::park::Inner::park", "tokio::runtime::park::Inner::park_timeout", NULL },
	{ "tokio::runtime::park::CachedParkThread::park",
	  "tokio::runtime::park::CachedParkThread::park_timeout", NULL },
	{ "tokio::runtime::driver::Driver::park", "tokio::runtime::driver::Driver::park_timeout",
	  "tokio::runtime::scheduler::current_thread::Context::park",
	  "tokio::runtime::scheduler::current_thread::Context::park_yield", NULL },
};

static size_t find_level(struct tg_elf_code *c, size_t level, size_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nfuncs && n < max; i++) {
		const char *d;

		if (!c->funcs[i].name || !strstr(c->funcs[i].name, "park") || !(d = tg_elf_func_dem(c, i)))
			continue;
		for (size_t k = 0; park_levels[level][k]; k++)
			if (strcmp(d, park_levels[level][k]) == 0 &&
			    (n == 0 || c->funcs[out[n - 1]].addr != c->funcs[i].addr))
				out[n++] = i;
	}
	return n;
}

static char *joined(const char *a, const char *b)
{
	char *s;

	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* The parks bound every block_on poll, inlined or not: sites for them and
 * for the polls between them, on the main thread (named for the crate's
 * main) and on others (Handle::block_on in spawn_blocking, a plain thread). */
static int add_parks(struct tg_poll_sites *sites, struct tg_elf_code *c, const size_t *f, size_t n,
		     int kind)
{
	int r, added = 0;

	for (size_t i = 0; i < n; i++) {
		if ((r = add_site(sites, c, f[i], kind, strdup(tg_elf_func_dem(c, f[i])), 0)) < 0)
			return r;
		added += r;
	}
	return added;
}

/* The parks bound every block_on poll, inlined or not: sites for them and
 * for the polls between them, on the main thread (named for the crate's
 * main) and on others (Handle::block_on in spawn_blocking, a plain thread). */
static int add_park_sites(struct tg_poll_sites *sites, struct tg_elf_code *c, const char *main_fn)
{
	size_t f[8], n = find_level(c, 0, f, 8);
	int r, added;

	if (n == 0)
		n = find_level(c, 1, f, 8);
	if ((added = add_parks(sites, c, f, n, TG_SITE_PARK)) < 0)
		return added;
	n = find_level(c, 2, f, 8);
	if ((r = add_parks(sites, c, f, n, TG_SITE_DRIVER_PARK)) < 0)
		return r;
	if ((added += r) == 0)
		return 0;
	if ((r = add_site(sites, c, c->nfuncs, TG_SITE_BLOCK_ON,
			  joined(main_fn ? main_fn : "main", " (block_on)"), 1)) < 0)
		return r;
	added += r;
	if ((r = add_site(sites, c, c->nfuncs, TG_SITE_BLOCK_ON,
			  strdup("tokio::runtime::Handle::block_on (block_on)"), 2)) < 0)
		return r;
	return added + r;
}

int tg_find_block_on_sites(struct tg_elf_code *c, struct tg_poll_sites *sites)
{
	struct walk w = { .code = c };
	const char *main_fn = NULL;
	int r, added = 0;

	w.visited = calloc(MAX_VISIT, sizeof(*w.visited));
	if (!w.visited)
		return -ENOMEM;
	for (size_t i = 0; i < c->nfuncs; i++) {
		const char *name = c->funcs[i].name;

		/* demangle only what can be a root: every name has one of these words */
		if (!name || !(strstr(name, "block_on") || strstr(name, "4main")))
			continue;
		name = tg_elf_func_dem(c, i);
		if (crate_main(name) && !main_fn)
			main_fn = name;
		if (block_on_root(name) || crate_main(name))
			walk_from(&w, c->funcs[i].addr, 0);
	}
	for (size_t i = 0; i < w.nfound && added >= 0; i++) {
		size_t fi = tg_elf_func_at(c, w.found[i]);

		r = add_site(sites, c, fi, TG_SITE_BLOCK_ON, site_name(tg_elf_func_dem(c, fi)), 0);
		added = r < 0 ? r : added + r;
	}
	if (added >= 0) {
		r = add_park_sites(sites, c, main_fn);
		added = r < 0 ? r : added + r;
	}
	free(w.visited);
	return added;
}
