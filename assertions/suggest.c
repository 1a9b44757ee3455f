/* "Did you mean": a selector that matched nothing is compared with the names
 * the run saw (tasks, functions, steps), and the closest few are suggested. */
#include "checks_parts.h"
#include "load.h"
#include "names.h"
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ did you mean */

#define SUGGEST_MAX 3
#define SUGGEST_NAME_MAX 128     /* longer names are compared by their first bytes */
#define SUGGEST_CANDIDATES 20000 /* names looked at: a huge run must not stall the end */

/* Levenshtein distance over at most SUGGEST_NAME_MAX bytes of each string. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[SUGGEST_NAME_MAX + 1];

	la = la > SUGGEST_NAME_MAX ? SUGGEST_NAME_MAX : la;
	lb = lb > SUGGEST_NAME_MAX ? SUGGEST_NAME_MAX : lb;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static size_t segments(const char *s)
{
	size_t n = 1;

	for (const char *p = s; (p = strstr(p, "::")); p += 2)
		n++;
	return n;
}

/* How far NAME is from what the user wrote (glob stars dropped): the whole
 * name, or its last path segments when the pattern has fewer ("batch_job"
 * for "hidden_app::batch_job"). */
static size_t name_distance(const char *pat, size_t pat_segs, const char *name)
{
	size_t d = edit_distance(pat, strlen(pat), name, strlen(name));
	size_t segs = segments(name);
	const char *tail = name;

	for (; segs > pat_segs && (tail = strstr(tail, "::")); segs--)
		tail += 2;
	if (tail && tail != name) {
		size_t t = edit_distance(pat, strlen(pat), tail, strlen(tail));
		if (t < d)
			d = t;
	}
	return d;
}

struct suggest {
	const char *glob; /* as written */
	char pat[SUGGEST_NAME_MAX + 1];
	size_t segs, looked;
	const char *best[SUGGEST_MAX];
	size_t dist[SUGGEST_MAX], n;
};

static void consider(struct suggest *g, const char *name)
{
	size_t d, k;

	if (!name || !name[0] || g->looked++ >= SUGGEST_CANDIDATES || tg_glob_match(g->glob, name))
		return; /* a name the selector matched is no alternative to it */
	for (k = 0; k < g->n; k++)
		if (strcmp(g->best[k], name) == 0)
			return;
	d = name_distance(g->pat, g->segs, name);
	for (k = g->n; k > 0 && g->dist[k - 1] > d; k--)
		;
	if (k >= SUGGEST_MAX)
		return;
	if (g->n < SUGGEST_MAX)
		g->n++;
	memmove(&g->best[k + 1], &g->best[k], (g->n - 1 - k) * sizeof g->best[0]);
	memmove(&g->dist[k + 1], &g->dist[k], (g->n - 1 - k) * sizeof g->dist[0]);
	g->best[k] = name;
	g->dist[k] = d;
}

static void consider_results(struct suggest *g, const struct tg_step_result *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		consider(g, r[i].name);
		consider_results(g, r[i].children, r[i].nchildren);
	}
}

static void consider_steps(struct suggest *g, const struct tg_step *st, size_t n)
{
	for (size_t i = 0; st && i < n; i++) {
		consider(g, st[i].name);
		consider_steps(g, st[i].children, st[i].nchildren);
	}
}

static void consider_observed(struct suggest *g, const struct ctx *c)
{
	const struct tg_assert_input *in = c->in;

	if (c->e->sel == TG_SEL_LOAD) {
		consider_results(g, in->steps, in->nsteps);
		if (in->spec)
			consider_steps(g, in->spec->steps, in->spec->nsteps);
		return;
	}
	for (size_t i = 0; in->tasks && i < in->ntasks; i++)
		consider(g, in->tasks[i].name);
	if (c->e->sel != TG_SEL_FUNCTION)
		return;
	for (size_t i = 0; in->spans && i < in->nspans; i++) {
		for (size_t j = 0; j < in->spans[i].nfunctions; j++)
			consider(g, in->spans[i].functions[j]);
		for (int j = 0; in->spans[i].frames && j < in->spans[i].nframes; j++)
			consider(g, in->spans[i].frames[j].function);
	}
}

/* M_NONE: the observed names closest to the selector, "; did you mean `x`?",
 * or the closest few when none is near. */
void suggest(const struct ctx *c, struct meas *m)
{
	struct suggest *g;
	size_t o = 0, near = 0, limit;
	const char *what = c->e->sel == TG_SEL_LOAD ? "load steps" :
			   c->e->sel == TG_SEL_FUNCTION ? "functions" : "tasks";

	/* a task selector's WHY says it matched blocking-pool tasks only: no typo */
	if (c->e->sel == TG_SEL_ALL || (c->e->sel == TG_SEL_TASK && m->why[0]) || !c->e->pattern ||
	    !(g = calloc(1, sizeof *g)))
		return;
	for (const char *p = c->e->pattern; *p && o < SUGGEST_NAME_MAX; p++)
		if (*p != '*')
			g->pat[o++] = *p;
	g->segs = segments(g->pat);
	g->glob = c->e->pattern;
	consider_observed(g, c);
	limit = strlen(g->pat) / 3 > 2 ? strlen(g->pat) / 3 : 2;
	/* near the limit and near the best: one clear guess beats three vague ones */
	while (near < g->n && g->dist[near] <= limit && g->dist[near] <= g->dist[0] + 1)
		near++;
	if (near)
		snprintf(m->hint, sizeof m->hint, "; did you mean ");
	else if (g->n)
		snprintf(m->hint, sizeof m->hint, "; observed %s include ", what);
	for (size_t k = 0; k < (near ? near : g->n); k++)
		tg_cat(m->hint, sizeof m->hint, "%s`%.60s`",
			      k == 0 ? "" : k + 1 == (near ? near : g->n) ? " or " : ", ", g->best[k]);
	if (near)
		tg_cat(m->hint, sizeof m->hint, "?");
	free(g);
}
