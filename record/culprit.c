/* Culprits: each blocking span's stack symbolized (or unwound from its copy)
 * and the frame to blame picked: the deepest frame of the program itself
 * below Tokio's poll, with the functions it passed through. */
#include "record_parts.h"
#include "grow.h"
#include "tail_calls.h"
#include "unwind.h"

#include <stdlib.h>
#include <string.h>

/* ---- culprits */

/* Where a task's poll enters Tokio: raw::poll is often a tail-jump thunk that
 * never shows in a stack, so Harness::poll and poll_future count too. */
static bool is_poll_entry(const char *fn)
{
	static const char *const entries[] = {
		"tokio::runtime::task::raw::poll",
		"tokio::runtime::task::harness::Harness<T,S>::poll",
		"tokio::runtime::task::harness::Harness<T, S>::poll",
		"tokio::runtime::task::harness::poll_future",
	};

	for (size_t i = 0; fn && i < sizeof(entries) / sizeof(entries[0]); i++) {
		size_t n = strlen(entries[i]);

		if (strncmp(fn, entries[i], n) == 0 && (fn[n] == 0 || fn[n] == '<'))
			return true;
	}
	return false;
}

/* The stack's return addresses, with the caller of a leaf that keeps no
 * frame pointer (a libc syscall wrapper called from inlined std code) put
 * back: the frame-pointer walk skips it, the leaf's CFI finds its return
 * address in the copied top of the stack. */
static uint32_t stack_addresses(struct tg_symbolizer *sz, const struct tg_stack *st,
				uint64_t *out)
{
	uint64_t ra;
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->nr; i++) {
		out[n++] = st->ips[i];
		if (i == 0 && st->top &&
		    tg_leaf_return_address(sz, st->ips[0], st->sp, st->top, TG_STACK_TOP, &ra) == 0 &&
		    (st->nr < 2 || st->ips[1] != ra))
			out[n++] = ra;
	}
	return n;
}

/* Symbolizes a stack, innermost first, cut after the frame where the poll
 * entered Tokio: what lies below is the worker loop, the same for every span. */
static int symbolize_stack(struct tg_symbolizer *sz, const struct tg_stack *st,
			   struct tg_frame *out, int max)
{
	uint64_t addrs[TG_MAX_STACK_DEPTH + 1];
	uint32_t na = stack_addresses(sz, st, addrs);
	int n = 0;

	for (uint32_t i = 0; i < na && n < max; i++) {
		/* a function that tail-called the frame below sits between it and addrs[i] */
		int t = i > 0 && n > 0 ? tg_tail_call_frames(sz, addrs[i], addrs[i - 1], i > 1,
							    out[n - 1].function, out + n, max - n) : 0;

		if (t && ((n += t) >= max || is_poll_entry(out[n - 1].function)))
			return n;
		int k = tg_symbolize(sz, addrs[i], i > 0, out + n, max - n);

		for (int j = n; j < n + k; j++) {
			if (is_poll_entry(out[j].function))
				return j + 1;
		}
		n += k;
	}
	return n;
}

/* The culprit is the innermost frame of the target's own code; failing
 * that, the innermost frame with a name. */
static int pick_culprit(const struct tg_frame *f, int n)
{
	for (int i = 0; i < n; i++)
		if (f[i].own)
			return i;
	for (int i = 0; i < n; i++)
		if (f[i].function && f[i].function[0] != '[')
			return i;
	return n ? 0 : -1;
}

static bool same_frame(const struct tg_frame *a, const struct tg_frame *b)
{
	return a->line == b->line && a->function && b->function &&
	       strcmp(a->function, b->function) == 0 &&
	       (a->file == b->file || (a->file && b->file && strcmp(a->file, b->file) == 0));
}

struct candidate {
	struct tg_frame *frames; /* of the heaviest stack naming this culprit */
	int nframes, culprit;
	bool truncated;          /* that stack's walk ended early */
	uint64_t best_weight;    /* that stack's weight */
	uint64_t total;          /* all stacks naming this culprit */
};

static void add_candidate(struct candidate *c, size_t *nc, struct tg_frame *f, int n, int k,
			  uint64_t w, bool truncated)
{
	size_t i;

	for (i = 0; i < *nc; i++)
		if (same_frame(&c[i].frames[c[i].culprit], &f[k]))
			break;
	if (i == *nc) {
		c[i] = (struct candidate){ .frames = NULL, .culprit = k };
		(*nc)++;
	}
	c[i].total += w;
	if (!c[i].frames || w > c[i].best_weight) {
		struct tg_frame *copy = malloc((size_t)n * sizeof(*f));

		/* out of memory: an existing candidate keeps its stack */
		if (copy) {
			memcpy(copy, f, (size_t)n * sizeof(*f));
			free(c[i].frames);
			c[i].frames = copy;
			c[i].nframes = n;
			c[i].culprit = k;
			c[i].best_weight = w;
			c[i].truncated = truncated;
		}
	}
	if (!c[i].frames) /* only a new candidate, the last one, has none */
		(*nc)--;
}

/* Function names come from the symbolizer's cache: comparing pointers first
 * makes the common repeat cheap. */
static void add_functions(struct tg_span *s, size_t *cap, const struct tg_frame *f, int n)
{
	for (int i = 0; i < n; i++) {
		const char *fn = f[i].function;
		size_t j;

		if (!fn)
			continue;
		for (j = 0; j < s->nfunctions; j++)
			if (s->functions[j] == fn || strcmp(s->functions[j], fn) == 0)
				break;
		if (j < s->nfunctions ||
		    tg_grow((void **)&s->functions, cap, s->nfunctions + 1, sizeof(*s->functions)))
			continue;
		s->functions[s->nfunctions++] = fn;
	}
}

/* C functions (libc, libpthread) have no "::" in their names: the blocking
 * call a person recognizes is the first Rust frame above them. */
static void note_where(struct tg_stack *st, const struct tg_frame *f, int n)
{
	for (int i = 0; i < n; i++)
		if (f[i].function && f[i].function[0] != '[' && strstr(f[i].function, "::")) {
			st->where = f[i];
			return;
		}
}

/* A DWARF-mode stack's addresses, from its copy (which goes: unwound once). */
static void unwind_copy(struct tg_symbolizer *sz, struct tg_stack *st)
{
	uint64_t ips[TG_MAX_STACK_DEPTH];

	if (!st->copy || st->ips)
		return;
	st->nr = tg_unwind(sz, st->copy, ips, TG_MAX_STACK_DEPTH, &st->truncated);
	st->ips = malloc((st->nr ? st->nr : 1) * sizeof(*ips));
	if (st->ips)
		memcpy(st->ips, ips, st->nr * sizeof(*ips));
	else
		st->nr = 0;
}

/* Each stack votes for its culprit with its weight (off-CPU time or a sample
 * period); the span keeps the winner and its heaviest stack. */
static void resolve_span(struct tg_span *s, struct tg_symbolizer *sz)
{
	struct tg_frame *buf = calloc(MAX_FRAMES, sizeof(*buf));
	struct candidate *c = calloc(s->nstacks ? s->nstacks : 1, sizeof(*c));
	size_t nc = 0, best = 0, capfn = 0;

	for (size_t i = 0; buf && c && i < s->nstacks; i++) {
		int n;

		unwind_copy(sz, &s->stacks[i]);
		n = symbolize_stack(sz, &s->stacks[i], buf, MAX_FRAMES);
		int k = pick_culprit(buf, n);

		add_functions(s, &capfn, buf, n);
		note_where(&s->stacks[i], buf, n);
		if (k >= 0)
			add_candidate(c, &nc, buf, n, k, s->stacks[i].weight_ns ? s->stacks[i].weight_ns : 1,
				      s->stacks[i].truncated);
	}
	for (size_t i = 1; i < nc; i++)
		if (c[i].total > c[best].total)
			best = i;
	if (nc) {
		s->frames = c[best].frames;
		s->nframes = c[best].nframes;
		s->culprit = c[best].culprit;
		s->stack_truncated = c[best].truncated;
		c[best].frames = NULL;
	}
	for (size_t i = 0; c && i < nc; i++)
		free(c[i].frames);
	free(c);
	free(buf);
}

/* After its culprit is known a span needs of its stacks only the off-CPU
 * intervals' times and where they blocked (the trace draws them): the raw
 * addresses and stack bytes go, and with them most of a span's memory. */
static void compact_stacks(struct tg_span *sp)
{
	size_t kept = 0;

	for (size_t i = 0; i < sp->nstacks; i++) {
		struct tg_stack *st = &sp->stacks[i];

		free(st->ips);
		free(st->top);
		free(st->copy);
		st->ips = NULL;
		st->top = NULL;
		st->copy = NULL;
		st->nr = 0;
		st->sp = 0;
		if (st->offcpu)
			sp->stacks[kept++] = *st;
	}
	sp->nstacks = kept;
	if (!kept) {
		free(sp->stacks);
		sp->stacks = NULL;
	}
}

size_t tg_record_resolve(struct tg_record *r, struct tg_symbolizer *sz)
{
	size_t n = 0;

	for (; r->resolved < r->nspans; r->resolved++, n++) {
		struct tg_span *sp = &r->spans[r->resolved];

		/* what budget_stacks counted, before unwinding changes the stacks */
		r->stack_bytes -= span_stack_bytes(sp);
		resolve_span(sp, sz);
		sp->kind = tg_block_kind_of(sp);
		compact_stacks(sp);
	}
	return n;
}
