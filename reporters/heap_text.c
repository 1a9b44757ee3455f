/* probe.heap's sites as text. Sizes in binary units, as the spec writes them. */
#include "heap_text.h"
#include "cat.h"
#include "frame_text.h"
#include "heap_sites.h"

#include <inttypes.h>
#include <stdio.h>

static void bytes(int64_t n, char *buf, size_t len)
{
	if (n < 0) {
		buf[0] = '-';
		tg_heap_format_bytes((uint64_t)-n, buf + 1, len - 1);
	} else {
		tg_heap_format_bytes((uint64_t)n, buf, len);
	}
}

void tg_heap_headline(const struct tg_heap_report *h, char *buf, size_t len)
{
	char g[32], p[32];

	bytes(h->growth_bytes, g, sizeof g);
	bytes(h->peak_live_bytes, p, sizeof p);
	snprintf(buf, len, "grew %s (peak %s live), %" PRIu64 " allocations in %.1fs", g, p,
		 h->stats[TG_HEAP_ALLOCS], h->window_s);
}

void tg_heap_site_text(const struct tg_heap_site *s, const char *base, char *buf, size_t len)
{
	char live[32], total[32], path[1024];

	bytes(s->live_bytes, live, sizeof live);
	bytes((int64_t)s->bytes, total, sizeof total);
	snprintf(buf, len, "%s live, %" PRIu64 " allocs (%s) at %s", live, s->allocs, total, s->function);
	if (s->file)
		tg_cat(buf, len, " (%s:%d)", tg_display_path(s->file, base, path, sizeof path), s->line);
}

void tg_heap_caveats(const struct tg_heap_report *h, char *buf, size_t len)
{
	buf[0] = 0;
	if (!h->frees_seen)
		tg_cat(buf, len, "frees not seen (no dealloc symbol: LTO?), live bytes count every allocation; ");
	if (h->stats[TG_HEAP_LIVE_FULL])
		tg_cat(buf, len, "%" PRIu64 " allocations not tracked (live map full); ",
		       h->stats[TG_HEAP_LIVE_FULL]);
	if (h->stats[TG_HEAP_STACKS_FULL] || h->stats[TG_HEAP_STACK_FAIL])
		tg_cat(buf, len, "%" PRIu64 " allocations without a stack ([no stack]); ",
		       h->stats[TG_HEAP_STACKS_FULL] + h->stats[TG_HEAP_STACK_FAIL]);
	if (h->stats[TG_HEAP_PENDING_FULL])
		tg_cat(buf, len, "%" PRIu64 " allocator calls lost (too many threads at once); ",
		       h->stats[TG_HEAP_PENDING_FULL]);
}
