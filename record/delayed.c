// SPDX-License-Identifier: MIT
/* A span's delayed tasks: every one counted and summed, the longest waits
 * kept by name (a span that held a worker for seconds in a busy server may
 * delay thousands of polls; memory stays TG_DELAYED_KEEP entries per span). */
#include "delayed.h"

#include <stdio.h>
#include <string.h>

#include "spec.h"

void tg_delayed_add(struct tg_delayed *d, const struct tg_delayed_task *t)
{
	uint32_t k;

	d->tasks++;
	d->total_ns += t->wait_ns;
	/* insertion into a short list kept longest first; a full list drops its shortest */
	k = d->nworst < TG_DELAYED_KEEP ? d->nworst : TG_DELAYED_KEEP - 1;
	if (d->nworst == TG_DELAYED_KEEP && d->worst[k].wait_ns >= t->wait_ns)
		return;
	while (k > 0 && d->worst[k - 1].wait_ns < t->wait_ns) {
		d->worst[k] = d->worst[k - 1];
		k--;
	}
	d->worst[k] = *t;
	if (d->nworst < TG_DELAYED_KEEP)
		d->nworst++;
}

void tg_delayed_sentence(const struct tg_delayed *d, uint64_t span_ns, char *buf, size_t len)
{
	char dur[32], total[32];

	if (!len)
		return;
	buf[0] = '\0';
	if (!d || !d->tasks)
		return;
	tg_format_duration(span_ns, dur, sizeof(dur));
	tg_format_duration(d->total_ns, total, sizeof(total));
	snprintf(buf, len, "this %s poll delayed %llu task%s by %s in all", dur,
		 (unsigned long long)d->tasks, d->tasks == 1 ? "" : "s", total);
}
