/* max_worker_busy: the busiest worker thread's busy share of the run
 * (record/workers.h says what busy means). */
#include <stdio.h>

#include "checks_parts.h"
#include "workers.h"

void measure_worker_busy(const struct ctx *c, struct meas *m)
{
	const struct tg_worker_util *w = c->in->workers, *top = NULL;

	if (c->e->sel != TG_SEL_ALL) {
		m->state = M_SKIP;
		snprintf(m->why, sizeof m->why, "skipped: max_worker_busy takes no selector");
		return;
	}
	for (size_t i = 0; w && i < c->in->nworkers; i++)
		if (!top || w[i].busy_pct > top->busy_pct)
			top = &w[i];
	if (!top) {
		m->state = M_NONE;
		snprintf(m->why, sizeof m->why, ": no worker thread ran a task's poll");
		return;
	}
	m->d = top->busy_pct;
	snprintf(m->where, sizeof m->where, "worker %s (tid %u)", top->name && top->name[0] ? top->name : "?",
		 top->tid);
	snprintf(m->note, sizeof m->note, "blocked %.1f%%, idle %.1f%%", top->blocked_pct, top->idle_pct);
}
