/* Poll sites named from the vtable, for builds without DWARF and with legacy
 * symbols (poll_sites.c, 3.): the schedule slot names S, the drop glue
 * drop_in_place<Cell<T, S>> names T; merged glue names the task "A|B". */
#define _GNU_SOURCE /* memmem */
#include "poll_sites_parts.h"
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- naming from the vtable (no DWARF, legacy symbols) */

/* The vtable is the place that holds the poll function's address. */
static uint64_t find_vtable(const struct tg_elf_code *c, uint64_t poll)
{
	for (size_t i = 0; i < c->nrels; i++)
		if (c->rels[i].addend == poll)
			return c->rels[i].off;
	return 0; /* non-PIE binaries: not searched; DWARF or v0 names cover them */
}

/* Types as the two manglings' demanglers spell them, compared without spaces. */
static bool same_type(const char *a, const char *b)
{
	for (;; a++, b++) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* S from a Schedule impl's name: "<S as tokio::runtime::task::Schedule>::schedule"
 * or "...::<impl tokio::runtime::task::Schedule for S>::schedule". */
static char *schedule_impl_type(const char *dem)
{
	static const char as[] = " as tokio::runtime::task::Schedule>::schedule";
	static const char impl[] = "<impl tokio::runtime::task::Schedule for ";
	static const char end[] = ">::schedule";
	const char *p = strstr(dem, impl), *stop = dem + strlen(dem) - strlen(end);

	if (dem[0] == '<' && strlen(dem) > strlen(as) + 1 && ends_with(dem, as))
		return strndup(dem + 1, strlen(dem) - 1 - strlen(as));
	if (p && ends_with(dem, end) && stop > p + strlen(impl))
		return strndup(p + strlen(impl), (size_t)(stop - (p + strlen(impl))));
	return NULL;
}

/* S from the vtable's schedule slot: raw::schedule<T, S> only forwards to
 * S's Schedule::schedule, which is not generic over T, so the tail call
 * survives even where the Cell's drop glue is inlined (blocking-pool tasks). */
static char *scheduler_from_slot(struct tg_elf_code *c, uint64_t fn)
{
	uint64_t tg[16];
	size_t n = tg_elf_call_targets(c, fn, tg, 16);

	for (size_t i = 0; i < n; i++)
		for (size_t j = tg_elf_func_at(c, tg[i]); j < c->nfuncs && c->funcs[j].addr == tg[i]; j++) {
			const char *dem = func_dem(c, j);
			char *sched = dem ? schedule_impl_type(dem) : NULL;

			if (sched)
				return sched;
		}
	return NULL;
}

/* (T, S) candidates: several when identical drop glue was merged into one
 * function with one alias per type (small futures of the same layout). */
#define MAX_CANDS 16
struct cands {
	size_t n;
	char *t[MAX_CANDS], *s[MAX_CANDS];
};

static void cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->t[i]);
		free(c->s[i]);
	}
	c->n = 0;
}

/* T and S of "core::ptr::drop_in_place<...tokio::runtime::task::core::Cell<T, S>...>"
 * (the Cell itself, or a Box of it). */
static int cell_pair(const char *dem, char **t, char **s)
{
	const char *p = strstr(dem, "tokio::runtime::task::core::Cell<");
	const char *q;
	int depth = 0;
	char *cell;
	int r;

	if (strncmp(dem, "core::ptr::drop_in_place<", 25) != 0 || !p)
		return -EINVAL;
	p += strlen("tokio::runtime::task::core::");
	for (q = p + 4; *q; q++)
		if (*q == '<')
			depth++;
		else if (*q == '>' && --depth == 0)
			break;
	if (!*q || !(cell = strndup(p, (size_t)(q - p + 1))))
		return -EINVAL;
	r = tg_split_generic_pair(cell, t, s);
	free(cell);
	return r;
}

static bool same_future(const char *poll, const char *t);

/* Every alias's (T, S), parsed once per run: merged drop glue carries one
 * alias per task type (1000 at 1000 small tasks), and every site's walk
 * reaches it, so parsing per visit was quadratic in the task types. */
struct pair_cache {
	struct pair { char *t, *s; signed char state; /* 0 unparsed, 1 a Cell, -1 not */ } *v;
	size_t n;
};

static const struct pair *cached_pair(struct pair_cache *pc, struct tg_elf_code *code, size_t j)
{
	struct pair *p;
	const char *dem;

	if (j >= pc->n)
		return NULL;
	p = &pc->v[j];
	if (p->state == 0) {
		dem = func_dem(code, j);
		p->state = dem && cell_pair(dem, &p->t, &p->s) == 0 ? 1 : -1;
	}
	return p->state > 0 ? p : NULL;
}

static void pair_cache_free(struct pair_cache *pc)
{
	for (size_t i = 0; i < pc->n; i++) {
		free(pc->v[i].t);
		free(pc->v[i].s);
	}
	free(pc->v);
}

static bool poll_confirms(const struct cands *polls, const char *t)
{
	for (size_t i = 0; polls && i < polls->n; i++)
		if (same_future(polls->t[i], t))
			return true;
	return false;
}

/* Every (T, S) the aliases at ADDR name, S restricted to SCHED when known,
 * and T to what the poll path confirms when ONLY is given (so that glue with
 * more than MAX_CANDS aliases still yields the right one). */
static size_t cands_at(struct tg_elf_code *code, struct pair_cache *pc, uint64_t addr, const char *sched,
		       const struct cands *only, struct cands *c)
{
	for (size_t j = tg_elf_func_at(code, addr); j < code->nfuncs && code->funcs[j].addr == addr; j++) {
		const struct pair *p = cached_pair(pc, code, j);
		size_t k;

		if (!p || c->n == MAX_CANDS || (sched && !same_type(p->s, sched)) ||
		    (only && !poll_confirms(only, p->t)))
			continue;
		for (k = 0; k < c->n && strcmp(c->t[k], p->t) != 0; k++)
			;
		if (k < c->n)
			continue;
		c->t[c->n] = strdup(p->t);
		c->s[c->n] = strdup(p->s);
		if (!c->t[c->n] || !c->s[c->n]) {
			free(c->t[c->n]);
			free(c->s[c->n]);
			break;
		}
		c->n++;
	}
	return c->n;
}

/* What the vtable tells about one site. */
struct site_ev {
	char *sched;        /* S from the schedule slot */
	struct cands glue;  /* (T, S) the Cell's drop glue allows */
	uint64_t glue_addr; /* that drop glue: shared by two sites = ambiguous */
	struct cands polls; /* future poll functions on the poll path (t only) */
};

struct cand_walk {
	struct tg_elf_code *c;
	struct pair_cache *pairs;
	struct site_ev *ev;
	bool confirmed_only; /* drop glue aliases the poll path names, only */
	bool have;
	uint64_t seen[64];
	size_t nseen;
};

/* Keeps the candidates C shares with what was kept; an empty intersection
 * means C came from a misread call, and is ignored. */
static void cands_intersect(struct cand_walk *w, struct cands *c)
{
	struct cands both = { 0 }, *keep = &w->ev->glue;

	if (!w->have) {
		*keep = *c;
		w->have = true;
		c->n = 0;
		return;
	}
	for (size_t i = 0; i < keep->n; i++)
		for (size_t j = 0; j < c->n; j++)
			if (c->t[j] && strcmp(keep->t[i], c->t[j]) == 0) {
				both.t[both.n] = c->t[j];
				both.s[both.n++] = c->s[j];
				c->t[j] = c->s[j] = NULL;
				break;
			}
	if (both.n == 0)
		return;
	cands_free(keep);
	*keep = both;
}

static bool walk_seen(struct cand_walk *w, uint64_t addr)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i] == addr)
			return true;
	if (w->nseen < sizeof(w->seen) / sizeof(w->seen[0]))
		w->seen[w->nseen++] = addr;
	return false;
}

/* Tokio's own task machinery (Harness, Core, ...): the only callees worth
 * following. Both manglings spell the path this way. */
static bool is_task_internal(const struct tg_elf_code *c, uint64_t addr)
{
	for (size_t j = tg_elf_func_at(c, addr); j < c->nfuncs && c->funcs[j].addr == addr; j++)
		if (c->funcs[j].name && strstr(c->funcs[j].name, "5tokio7runtime4task"))
			return true;
	return false;
}

/* Collects drop glue of Cell<T, S> reachable from FUNC within DEPTH calls,
 * stopping as soon as one type is left. */
static void walk_drop_glue(struct cand_walk *w, uint64_t func, int depth)
{
	uint64_t tg[128];
	size_t n = tg_elf_call_targets(w->c, func, tg, 128);

	for (size_t i = 0; i < n && !(w->have && w->ev->glue.n == 1); i++) {
		struct cands c = { 0 };

		if (walk_seen(w, tg[i]))
			continue;
		if (cands_at(w->c, w->pairs, tg[i], w->ev->sched, w->confirmed_only ? &w->ev->polls : NULL, &c)) {
			if (!w->ev->glue_addr)
				w->ev->glue_addr = tg[i];
			cands_intersect(w, &c);
		} else if (depth > 1 && is_task_internal(w->c, tg[i])) {
			walk_drop_glue(w, tg[i], depth - 1);
		}
		cands_free(&c);
	}
}

/* The future a poll function polls: "x::y::{{closure}}" (an async fn or block
 * body, legacy spelling) or X of "<X as core::future::future::Future>::poll".
 * The runtime's and std's own futures are not tasks' and are skipped. */
static char *future_of_poll_fn(const char *dem)
{
	static const char fut[] = " as core::future::future::Future>::poll";
	static const char *const skip[] = { "tokio::runtime::", "std::", "core::", "alloc::" };
	const char *x = dem[0] == '<' ? dem + 1 : dem;

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strncmp(x, skip[i], strlen(skip[i])) == 0)
			return NULL;
	if (ends_with(dem, "::{{closure}}"))
		return strdup(dem);
	if (dem[0] == '<' && strlen(dem) > strlen(fut) + 1 && ends_with(dem, fut))
		return strndup(dem + 1, strlen(dem) - 1 - strlen(fut));
	return NULL;
}

static void polls_add(struct tg_elf_code *c, uint64_t addr, struct cands *polls)
{
	for (size_t j = tg_elf_func_at(c, addr); j < c->nfuncs && c->funcs[j].addr == addr; j++) {
		const char *dem = func_dem(c, j);
		char *x = dem ? future_of_poll_fn(dem) : NULL;

		if (x && polls->n < MAX_CANDS)
			polls->t[polls->n++] = x;
		else
			free(x);
	}
}

/* The future poll functions raw::poll reaches through the task machinery
 * (raw::poll -> Harness::poll -> Core::poll -> T's poll, or fewer hops once
 * inlined): T's own poll when it was not inlined, the futures T awaits when
 * it was. Evidence that confirms one drop glue candidate. */
static void walk_poll_path(struct cand_walk *w, uint64_t func, int depth)
{
	uint64_t tg[128];
	size_t n = tg_elf_call_targets(w->c, func, tg, 128);

	for (size_t i = 0; i < n; i++) {
		if (walk_seen(w, tg[i]))
			continue;
		polls_add(w->c, tg[i], &w->ev->polls);
		if (depth > 1 && is_task_internal(w->c, tg[i]))
			walk_poll_path(w, tg[i], depth - 1);
	}
}

/* "a::b<X, Y>" and "a::b<I, N>" (legacy impl names spell generics by their
 * parameters) are the same type for this purpose. */
static bool same_future(const char *poll, const char *t)
{
	const char *p = strchr(poll, '<'), *q = strchr(t, '<');

	if (strcmp(poll, t) == 0)
		return true;
	return p && q && p - poll == q - t && strncmp(poll, t, (size_t)(p - poll)) == 0 &&
	       ends_with(poll, ">") && ends_with(t, ">");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "a::x|a::y": the simplified names of every candidate, sorted, once each.
 * An honest "one of these" beats a confident wrong name. */
static char *joined_task_name(const struct cands *a, const struct cands *b)
{
	char *names[2 * MAX_CANDS], *out;
	size_t n = 0, len = 1;

	for (size_t i = 0; i < a->n + b->n; i++) {
		const char *t = i < a->n ? a->t[i] : b->t[i - a->n];

		if ((names[n] = tg_simplify_task_name(t)))
			len += strlen(names[n++]) + 1;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	out = calloc(1, len);
	for (size_t i = 0; out && i < n; i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			strcat(strcat(out, out[0] ? "|" : ""), names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return out;
}

/* Vtable slots in order: poll, schedule, dealloc, try_read_output,
 * drop_join_handle_slow, drop_abort_handle, shutdown. Drop glue is looked for
 * from dealloc first (it drops the Cell), then from the others. */
static void gather_site_ev(struct tg_elf_code *c, struct pair_cache *pairs, const struct tg_poll_site *site,
			   struct site_ev *ev)
{
	static const int slots[] = { 2, 5, 6, 4, 3 };
	uint64_t vt = find_vtable(c, site->addr);
	struct cand_walk w = { .c = c, .pairs = pairs, .ev = ev };

	if (!vt)
		return;
	ev->sched = scheduler_from_slot(c, tg_elf_pointer_at(c, vt + 8));
	/* the poll path first: what it names picks among merged glue's aliases */
	walk_poll_path(&w, site->addr, 3);
	for (int pass = ev->polls.n ? 0 : 1; pass < 2 && !w.have; pass++) {
		w.confirmed_only = pass == 0;
		w.nseen = 0;
		for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]) && !(w.have && ev->glue.n == 1); i++)
			walk_drop_glue(&w, tg_elf_pointer_at(c, vt + 8 * (uint64_t)slots[i]), 2);
		if (!w.have)
			ev->glue_addr = 0;
	}
}

static void append_unknown(struct tg_poll_site *site)
{
	size_t len = strlen(site->task_name) + 64;
	char *name = malloc(len);

	if (!name)
		return;
	snprintf(name, len, "%s|tokio::task@%#llx", site->task_name, (unsigned long long)site->addr);
	free(site->task_name);
	site->task_name = name;
}

/* T is the one drop glue candidate the poll path confirms, or the only one
 * when no other site shares its drop glue (merged glue keeps only one name
 * under LTO). Anything else is named "A|B" with every candidate: an honest
 * "one of these" beats a confident wrong name (a type whose task the linker
 * dropped can keep its name on glue merged with a live one's). */
static void decide_site(struct tg_poll_site *site, struct site_ev *ev, bool shared)
{
	size_t hits = 0, k = 0;

	for (size_t i = 0; i < ev->glue.n; i++)
		for (size_t j = 0; j < ev->polls.n; j++)
			if (same_future(ev->polls.t[j], ev->glue.t[i])) {
				hits++, k = i;
				break;
			}
	if (hits == 1 || (hits == 0 && ev->glue.n == 1 && !shared)) {
		site->future_type = ev->glue.t[k];
		site->scheduler = ev->glue.s[k];
		ev->glue.t[k] = ev->glue.s[k] = NULL;
	} else if (ev->glue.n || ev->polls.n) {
		site->task_name = joined_task_name(&ev->glue, &ev->polls);
		/* one name for two sites: at least one is another task */
		if (site->task_name && shared && ev->glue.n == 1 && ev->polls.n == 0)
			append_unknown(site);
	}
	if (site->future_type || site->task_name)
		site->named_by = "drop_in_place";
	if (!site->scheduler && (ev->sched || ev->glue.n))
		site->scheduler = strdup(ev->sched ? ev->sched : ev->glue.s[0]);
}

static bool glue_shared(const struct site_ev *ev, size_t n, size_t i)
{
	for (size_t j = 0; ev[i].glue_addr && j < n; j++)
		if (j != i && ev[j].glue_addr == ev[i].glue_addr)
			return true;
	return false;
}

/* A DWARF name whose {impl#N} no DWARF entry resolved (the method inlined
 * everywhere, leaving no entry with a linkage name). */
static bool impl_unresolved(const struct tg_poll_site *site)
{
	return site->future_type && strstr(site->future_type, "{impl#");
}

/* Whether symbol-spelled candidate C can be DWARF's D, "a::{impl#N}::f":
 * the same crate (unless C is a qualified "<X as T>::f") and what follows
 * the impl. */
static bool impl_compatible(const char *d, const char *c)
{
	const char *imp = strstr(d, "{impl#"), *after = imp ? strchr(imp, '}') : NULL;
	const char *crate_end = strstr(d, "::");

	if (!after || !crate_end || !ends_with(c, after + 1) || strlen(c) <= strlen(after + 1))
		return false;
	return c[0] == '<' || (strncmp(c, d, (size_t)(crate_end - d + 2)) == 0);
}

/* Among the vtable's candidates, the one DWARF's unresolved name fits. */
static void pick_impl_cand(struct tg_poll_site *site, struct site_ev *ev)
{
	char *d = tg_simplify_task_name(site->future_type);
	size_t hits = 0, k = 0;

	for (size_t i = 0; d && i < ev->glue.n; i++) {
		char *c = tg_simplify_task_name(ev->glue.t[i]);

		if (c && impl_compatible(d, c))
			hits++, k = i;
		free(c);
	}
	if (hits == 1) {
		free(site->future_type);
		site->future_type = ev->glue.t[k];
		ev->glue.t[k] = NULL;
		site->named_by = "dwarf+drop_in_place";
	}
	free(d);
}

void name_sites_vtable(struct tg_elf_code *c, struct tg_poll_sites *out)
{
	struct site_ev *ev = calloc(out->n ? out->n : 1, sizeof(*ev));
	struct pair_cache pairs = { .v = calloc(c->nfuncs ? c->nfuncs : 1, sizeof(*pairs.v)), .n = c->nfuncs };
	size_t unnamed = 0;

	for (size_t i = 0; i < out->n; i++)
		unnamed += !out->v[i].future_type || impl_unresolved(&out->v[i]);
	if (!unnamed || !ev || !pairs.v)
		goto done;
	/* every site's evidence first: sharing is only seen across sites */
	for (size_t i = 0; i < out->n; i++)
		gather_site_ev(c, &pairs, &out->v[i], &ev[i]);
	for (size_t i = 0; i < out->n; i++)
		if (!out->v[i].future_type)
			decide_site(&out->v[i], &ev[i], glue_shared(ev, out->n, i));
		else if (impl_unresolved(&out->v[i]))
			pick_impl_cand(&out->v[i], &ev[i]);
done:
	for (size_t i = 0; ev && i < out->n; i++) {
		free(ev[i].sched);
		cands_free(&ev[i].glue);
		cands_free(&ev[i].polls);
	}
	free(ev);
	pair_cache_free(&pairs);
}
