/* max_heap_growth and max_alloc_rate: probe.heap's call sites against a
 * limit. No selector: the whole run (growth: live bytes at the end of the
 * load; rate: every allocation). A function selector: the sites whose
 * function (the innermost own-code frame of the allocation) it matches. */
#include "checks_parts.h"
#include "glob.h"
#include "heap_sites.h"

#include <stdio.h>

static bool any_site(const struct tg_heap_report *h, const char *glob)
{
	for (size_t i = 0; i < h->nsites; i++)
		if (tg_glob_match(glob, h->sites[i].function))
			return true;
	return false;
}

void measure_heap(const struct ctx *c, struct meas *m)
{
	const struct tg_heap_report *h = c->in->heap;
	const char *glob = c->e->sel == TG_SEL_FUNCTION ? c->e->pattern : NULL;
	int64_t live;

	if (!h) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: %s needs probe.heap: true",
			 tg_limit_name(c->l->kind));
		return;
	}
	if (glob && !any_site(h, glob)) {
		m->state = M_NONE;
		snprintf(m->why, sizeof m->why, " (no allocation site in a function matching it)");
		return;
	}
	if (glob)
		snprintf(m->where, sizeof m->where, "allocation sites in %s", glob);
	if (c->l->kind == TG_LIM_MAX_ALLOC_RATE) {
		m->d = tg_heap_alloc_rate(h, glob);
		snprintf(m->note, sizeof m->note, "over %.1fs", h->window_s);
		return;
	}
	live = tg_heap_live(h, glob);
	m->u = live > 0 ? (uint64_t)live : 0;
	if (!h->frees_seen)
		snprintf(m->note, sizeof m->note, "no dealloc symbol in the binary: frees not seen");
}
