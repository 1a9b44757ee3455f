/* trace.json's stack-frame table (see trace_frames.h). */
#include <stdlib.h>
#include <string.h>

#include "trace_frames.h"

static uint64_t hash(uint32_t parent, const char *name, const char *cat)
{
	uint64_t h = 1469598103934665603ull ^ parent;

	for (const char *s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	for (const char *s = cat; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint32_t *find(const struct tg_trace_frames *t, uint32_t parent, const char *name,
		      const char *cat)
{
	size_t mask = t->nslot - 1, i = (size_t)hash(parent, name, cat) & mask;

	for (;; i = (i + 1) & mask) {
		const struct tg_trace_frame *f;

		if (!t->slot[i])
			return &t->slot[i];
		f = &t->v[t->slot[i] - 1];
		if (f->parent == parent && strcmp(f->name, name) == 0 && strcmp(f->cat, cat) == 0)
			return &t->slot[i];
	}
}

/* Twice the slots, every id placed again: the table stays at most half full. */
static int grow_slots(struct tg_trace_frames *t)
{
	size_t n = t->nslot ? t->nslot * 2 : 64;
	uint32_t *old = t->slot;

	t->slot = calloc(n, sizeof(*t->slot));
	if (!t->slot) {
		t->slot = old;
		return -1;
	}
	t->nslot = n;
	for (size_t i = 0; i < t->n; i++)
		*find(t, t->v[i].parent, t->v[i].name, t->v[i].cat) = (uint32_t)(i + 1);
	free(old);
	return 0;
}

uint32_t tg_trace_frame_id(struct tg_trace_frames *t, uint32_t parent, const char *name,
			   const char *cat)
{
	uint32_t *slot;

	name = name ? name : "";
	cat = cat ? cat : "";
	if ((t->n + 1) * 2 > t->nslot && grow_slots(t))
		return 0;
	slot = find(t, parent, name, cat);
	if (*slot)
		return *slot;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct tg_trace_frame *nv = realloc(t->v, cap * sizeof(*nv));

		if (!nv)
			return 0;
		t->v = nv;
		t->cap = cap;
	}
	t->v[t->n++] = (struct tg_trace_frame){ .parent = parent, .name = name, .cat = cat };
	return *slot = (uint32_t)t->n;
}

void tg_trace_frames_free(struct tg_trace_frames *t)
{
	free(t->v);
	free(t->slot);
	*t = (struct tg_trace_frames){ 0 };
}
