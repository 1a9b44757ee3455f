/* results.json's heap object. growth_bytes is live bytes at the end of the
 * load (the moment the probes' maps were read, before the target is
 * stopped) minus live bytes at attach, which is 0 by construction: blocks
 * allocated before the probes are not seen, and their frees are ignored. */
#include "heap_json.h"
#include "frame_text.h"
#include "heap_sites.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const stat_keys[TG_HEAP_STAT__COUNT] = {
	[TG_HEAP_ALLOCS] = "allocs", [TG_HEAP_FREES] = "frees",
	[TG_HEAP_FREE_UNKNOWN] = "frees_untracked", [TG_HEAP_LIVE_FULL] = "live_map_full",
	[TG_HEAP_STACKS_FULL] = "stack_map_full", [TG_HEAP_STACK_FAIL] = "no_stack",
	[TG_HEAP_PENDING_FULL] = "pending_full",
};

static cJSON *site_json(const struct tg_heap_site *s, const char *base)
{
	cJSON *o = cJSON_CreateObject();
	char buf[4096];

	cJSON_AddStringToObject(o, "function", s->function);
	if (s->file)
		cJSON_AddStringToObject(o, "file", tg_display_path(s->file, base, buf, sizeof(buf)));
	else
		cJSON_AddNullToObject(o, "file");
	cJSON_AddNumberToObject(o, "line", s->line);
	cJSON_AddNumberToObject(o, "allocs", (double)s->allocs);
	cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
	cJSON_AddNumberToObject(o, "live_bytes", (double)s->live_bytes);
	if (!s->own)
		cJSON_AddBoolToObject(o, "own", 0);
	return o;
}

cJSON *tg_heap_json(const struct tg_heap_report *h, const char *base)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray(), *st = cJSON_CreateObject();

	for (size_t i = 0; i < h->nsites; i++)
		cJSON_AddItemToArray(a, site_json(&h->sites[i], base));
	cJSON_AddItemToObject(o, "sites", a);
	cJSON_AddNumberToObject(o, "peak_live_bytes", (double)h->peak_live_bytes);
	cJSON_AddNumberToObject(o, "growth_bytes", (double)h->growth_bytes);
	cJSON_AddNumberToObject(o, "window_s", h->window_s);
	cJSON_AddBoolToObject(o, "frees_seen", h->frees_seen);
	cJSON_AddStringToObject(o, "symbols", h->symbols);
	for (int i = 0; i < TG_HEAP_STAT__COUNT; i++)
		cJSON_AddNumberToObject(st, stat_keys[i], (double)h->stats[i]);
	cJSON_AddItemToObject(o, "stats", st);
	return o;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int tg_heap_from_json(const cJSON *o, struct tg_heap_report *h)
{
	const cJSON *s, *st = cJSON_GetObjectItemCaseSensitive(o, "stats");
	const char *syms = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "symbols"));

	memset(h, 0, sizeof(*h));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(o, "sites")) {
		const char *fn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "function"));
		const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "file"));

		if (tg_heap_add(h, fn, file, (int)num(s, "line"),
				!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "own")),
				(uint64_t)num(s, "allocs"), (uint64_t)num(s, "bytes"),
				(int64_t)num(s, "live_bytes"))) {
			tg_heap_free(h);
			return -ENOMEM;
		}
	}
	h->peak_live_bytes = (int64_t)num(o, "peak_live_bytes");
	h->growth_bytes = (int64_t)num(o, "growth_bytes");
	h->live_bytes = h->growth_bytes;
	h->window_s = num(o, "window_s");
	h->frees_seen = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "frees_seen"));
	snprintf(h->symbols, sizeof(h->symbols), "%s", syms ? syms : "");
	for (int i = 0; i < TG_HEAP_STAT__COUNT; i++)
		h->stats[i] = (uint64_t)num(st, stat_keys[i]);
	tg_heap_sort(h);
	return 0;
}
