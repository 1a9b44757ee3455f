// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "unwind.h"
#include "grow.h"
#include "poll_probe.h"

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t tg_slices_raise_floor(struct tg_slice *v, size_t n, uint64_t *floor)
{
	uint64_t *d = malloc((n ? n : 1) * sizeof(*d)), f;
	size_t kept = 0;

	if (!d || n < 2) {
		free(d);
		return n;
	}
	for (size_t i = 0; i < n; i++)
		d[i] = v[i].duration_ns;
	/* once per TG_KEEP_SLICES / 2 slices: a sort is cheap enough */
	qsort(d, n, sizeof(*d), u64_cmp);
	f = d[n / 2];
	/* ties across the median would keep more than half: the next duration up */
	if (d[n / 2 - 1] == f)
		f++;
	free(d);
	for (size_t i = 0; i < n; i++)
		if (v[i].duration_ns >= f)
			v[kept++] = v[i];
	if (f > *floor)
		*floor = f;
	return kept;
}

size_t tg_stack_bytes(const struct tg_stack *st)
{
	return sizeof(*st) + (size_t)st->nr * sizeof(uint64_t) + (st->top ? TG_STACK_TOP : 0) +
	       (st->copy ? sizeof(*st->copy) + st->copy->len : 0);
}

int tg_span_heap_push(struct tg_span_heap *h, uint64_t key, uint32_t span)
{
	size_t i;

	if (tg_grow((void **)&h->v, &h->cap, h->n + 1, sizeof(*h->v)))
		return -ENOMEM;
	for (i = h->n++; i > 0 && h->v[(i - 1) / 2].key > key; i = (i - 1) / 2)
		h->v[i] = h->v[(i - 1) / 2];
	h->v[i].key = key;
	h->v[i].span = span;
	return 0;
}

int tg_span_heap_pop(struct tg_span_heap *h, uint64_t *key, uint32_t *span)
{
	size_t i = 0;

	if (!h->n)
		return 0;
	*key = h->v[0].key;
	*span = h->v[0].span;
	h->n--;
	/* sift the last element down from the root */
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].key < h->v[c].key)
			c++;
		if (h->v[c].key >= h->v[h->n].key)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = h->v[h->n];
	return 1;
}

void tg_span_heap_free(struct tg_span_heap *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}
