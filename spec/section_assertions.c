/* The allow and assertions sections: every limit's key, unit and selector from
 * one list (LIMITS), allow entries, and load selectors checked against the
 * names of the steps. */
#define _GNU_SOURCE
#include "spec_parse.h"
#include "glob.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------------- allow */

static int h_reason(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_allow *al = obj;
	const char *s;
	int rc = scalar(c, v, path, "a string saying why this blocking is acceptable", &s);
	if (rc)
		return rc;
	if (!*s)
		return fail(c, v, path, "must not be empty: say why this blocking is acceptable (it is "
					"carried into every report)");
	free(al->reason);
	if (!(al->reason = strdup(s)))
		return oom(c);
	return 0;
}

static const struct field allow_fields[] = {
	STR("function", struct tg_allow, function),
	FIELD("reason", h_reason),
};

static int allow_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen);
static const struct table allow_table = TABLE(allow_fields, allow_check);

static int allow_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen)
{
	char sub[PATH_LEN];
	if (!seen[field_index(&allow_table, "function")]) {
		join_key(sub, path, "function");
		return fail(c, n, sub, "required field is missing (a glob on function names like "
				       "\"ring::pbkdf2::*\")");
	}
	if (!seen[field_index(&allow_table, "reason")]) {
		join_key(sub, path, "reason");
		return fail(c, n, sub, "required field is missing: say why this blocking is acceptable "
				       "(it is carried into every report)");
	}
	return 0;
}

static int parse_allow(struct ctx *c, yaml_node_t *item, const char *path, struct tg_allow *al)
{
	yaml_node_t *seen[MAX_FIELDS];
	al->line = (int)item->start_mark.line + 1;
	al->column = (int)item->start_mark.column + 1;
	if (item->type != YAML_MAPPING_NODE)
		return fail_type(c, item, path,
				 "an allowed function (a mapping like {function: \"ring::*\", reason: \"...\"})");
	int rc = walk_map(c, item, path, &allow_table, al, seen);
	return rc ? rc : allow_check(c, item, path, al, seen);
}

int h_allow(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_spec *s = obj;
	char sub[PATH_LEN];
	int bad = 0;
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of allowed functions");
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return 0;
	if (!(s->allow = calloc(n, sizeof *s->allow)))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node(c, v->data.sequence.items.start[i]);
		s->nallow = i + 1;
		join_index(sub, path, i);
		if (!item)
			return fail(c, v, sub, "malformed YAML list");
		int rc = budget(c, item, sub);
		if (!rc)
			rc = parse_allow(c, item, sub, &s->allow[i]);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

/* -------------------------------------------------------------- assertions */

/* Every limit: kind, key, how its value is written, whether it belongs to load
 * selectors. One list feeds both the key table and tg_limit_name/unit/is_load. */
#define LIMITS(X)                                                                            \
	X(TG_LIM_MAX_POLL, "max_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P50_POLL, "p50_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P90_POLL, "p90_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P99_POLL, "p99_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P999_POLL, "p999_poll", TG_UNIT_DURATION, false)                            \
	X(TG_LIM_MAX_BLOCKING_SPANS, "max_blocking_spans", TG_UNIT_COUNT, false)             \
	X(TG_LIM_MAX_BLOCKING_TIME, "max_blocking_time", TG_UNIT_DURATION, false)            \
	X(TG_LIM_MIN_POLLS, "min_polls", TG_UNIT_COUNT, false)                               \
	X(TG_LIM_MAX_POLL_REGRESSION, "max_poll_regression", TG_UNIT_PERCENT, false)         \
	X(TG_LIM_MAX_CPU_SHARE, "max_cpu_share", TG_UNIT_PERCENT, false)                     \
	X(TG_LIM_MAX_SCHEDULING_DELAY, "max_scheduling_delay", TG_UNIT_DURATION, false)      \
	X(TG_LIM_P99_SCHEDULING_DELAY, "p99_scheduling_delay", TG_UNIT_DURATION, false)      \
	X(TG_LIM_MAX_DELAYED_TASKS, "max_delayed_tasks", TG_UNIT_COUNT, false)               \
	X(TG_LIM_MAX_HEAP_GROWTH, "max_heap_growth", TG_UNIT_BYTES, false)                   \
	X(TG_LIM_MAX_ALLOC_RATE, "max_alloc_rate", TG_UNIT_RATE, false)                      \
	X(TG_LIM_MAX_WORKER_BUSY, "max_worker_busy", TG_UNIT_PERCENT, false)                 \
	X(TG_LIM_MAX_ERRORS, "max_errors", TG_UNIT_COUNT, true)                              \
	X(TG_LIM_MAX_ERROR_RATE, "max_error_rate", TG_UNIT_PERCENT, true)                    \
	X(TG_LIM_P50_LATENCY, "p50_latency", TG_UNIT_DURATION, true)                         \
	X(TG_LIM_P99_LATENCY, "p99_latency", TG_UNIT_DURATION, true)                         \
	X(TG_LIM_MAX_LATENCY, "max_latency", TG_UNIT_DURATION, true)                         \
	X(TG_LIM_MIN_THROUGHPUT, "min_throughput", TG_UNIT_RATE, true)

static const struct {
	const char *name;
	enum tg_limit_unit unit;
	bool load;
} limit_info[TG_LIM__COUNT] = {
#define X(kind, key, unit, load) [kind] = { key, unit, load },
	LIMITS(X)
#undef X
};

static bool limit_known(enum tg_limit_kind kind)
{
	return kind > 0 && kind < TG_LIM__COUNT && limit_info[kind].name;
}

const char *tg_limit_name(enum tg_limit_kind kind)
{
	return limit_known(kind) ? limit_info[kind].name : "unknown";
}

enum tg_limit_unit tg_limit_unit(enum tg_limit_kind kind)
{
	return limit_known(kind) ? limit_info[kind].unit : TG_UNIT_COUNT;
}

bool tg_limit_is_min(enum tg_limit_kind kind)
{
	return kind == TG_LIM_MIN_POLLS || kind == TG_LIM_MIN_THROUGHPUT;
}

bool tg_limit_is_load(enum tg_limit_kind kind)
{
	return limit_known(kind) && limit_info[kind].load;
}

/* Why KIND cannot be a limit of an entry selecting with SEL, or NULL when it can. */
static const char *misplaced_limit(enum tg_selector sel, enum tg_limit_kind kind)
{
	if (kind == TG_LIM_MAX_WORKER_BUSY && sel != TG_SEL_ALL)
		return "is a worker thread's busy share, not a task's or a step's: put it in an "
		       "entry with no selector";
	if (tg_limit_is_load(kind) && sel != TG_SEL_LOAD)
		return "measures a load step: put it in an entry that selects one with load: NAME";
	if (!tg_limit_is_load(kind) && sel == TG_SEL_LOAD)
		return "measures task polls, not a load step: put it in an entry with task: or "
		       "no selector";
	if (kind == TG_LIM_MAX_CPU_SHARE && sel != TG_SEL_FUNCTION)
		return "is the CPU share of functions: put it in an entry with function: GLOB "
		       "(and set probe.cpu_profile)";
	if ((kind == TG_LIM_MAX_HEAP_GROWTH || kind == TG_LIM_MAX_ALLOC_RATE) && sel == TG_SEL_TASK)
		return "counts allocations at call sites, not a task's: put it in an entry with "
		       "function: or no selector";
	if (sel != TG_SEL_FUNCTION)
		return NULL;
	if (kind == TG_LIM_MAX_POLL_REGRESSION)
		return "compares tasks with the baseline, not functions: put it in an entry with "
		       "task: or no selector";
	if (kind == TG_LIM_MAX_SCHEDULING_DELAY || kind == TG_LIM_P99_SCHEDULING_DELAY)
		return "is a task's time from wake to poll, not a function's: put it in an entry "
		       "with task: or no selector";
	return NULL;
}

/* A count: a plain non-negative integer, nothing else. */
static int parse_count(struct ctx *c, yaml_node_t *v, const char *path, const char *s,
		       uint64_t *out)
{
	char q[QUOTE_LEN];
	uint64_t x = 0;
	size_t n = 0;
	bool big = false;
	quote(q, sizeof q, s, strlen(s));
	if (*s == '-' && is_digit(s[1]))
		return fail(c, v, path, "a count cannot be negative, got %s", q);
	for (; is_digit(s[n]); n++) {
		if (x > (UINT64_MAX - 9) / 10)
			big = true;
		else
			x = x * 10 + (uint64_t)(s[n] - '0');
	}
	if (!n)
		return fail(c, v, path, "expected a count like 0 or 10, got %s", q);
	if (s[n] == '.')
		return fail(c, v, path, "a count is a whole number like 0 or 10, got %s", q);
	if (s[n])
		return fail(c, v, path, "a count is a plain whole number like 0 or 10 (no unit), got %s", q);
	if (big)
		return fail(c, v, path, "count %s is too large", q);
	*out = x;
	return 0;
}

static int parse_limit_value(struct ctx *c, yaml_node_t *v, const char *path, const char *s,
			     struct tg_limit *lim)
{
	char why[2 * QUOTE_LEN], q[QUOTE_LEN];
	int rc = 0;
	switch (tg_limit_unit(lim->kind)) {
	case TG_UNIT_DURATION:
		rc = tg_parse_duration_msg(s, &lim->ns, why, sizeof why);
		break;
	case TG_UNIT_COUNT:
		return parse_count(c, v, path, s, &lim->count);
	case TG_UNIT_PERCENT:
		rc = tg_parse_percent(s, &lim->value, why, sizeof why);
		if (!rc && (lim->kind == TG_LIM_MAX_ERROR_RATE || lim->kind == TG_LIM_MAX_WORKER_BUSY) &&
		    lim->value > 100) {
			quote(q, sizeof q, s, strlen(s));
			return fail(c, v, path, "%s cannot be more than 100%%, got %s",
				    lim->kind == TG_LIM_MAX_ERROR_RATE ? "an error rate" : "a busy share", q);
		}
		break;
	case TG_UNIT_RATE:
		rc = tg_parse_rate(s, &lim->value, why, sizeof why);
		break;
	case TG_UNIT_BYTES:
		if (strcmp(s, "0") && !(lim->count = parse_bytes(s))) {
			quote(q, sizeof q, s, strlen(s));
			return fail(c, v, path, "expected a size like 10MB or 512KB, got %s", q);
		}
		break;
	}
	return rc ? fail(c, v, path, "%s", why) : 0;
}

static const char *limit_example(enum tg_limit_kind kind)
{
	switch (tg_limit_unit(kind)) {
	case TG_UNIT_DURATION: return "a duration like 5ms";
	case TG_UNIT_COUNT: return "a count like 0 or 10";
	case TG_UNIT_PERCENT: return "a percentage like 5%";
	case TG_UNIT_RATE: return "a rate like 100/s";
	case TG_UNIT_BYTES: return "a size like 10MB";
	}
	return "a value";
}

/* One limit, appended in document order; F->min holds its kind. Its key's position is
 * set by assertion_check, which sees the key nodes. */
static int h_limit(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_assertion *a = obj;
	struct tg_limit lim = { .kind = (enum tg_limit_kind)f->min };
	const char *s;
	int rc = scalar(c, v, path, limit_example(lim.kind), &s);
	if (rc || (rc = parse_limit_value(c, v, path, s, &lim)))
		return rc;
	if (a->nlimits >= c->limit_cap) /* cannot happen: keys are unique, the array fits them all */
		return fail(c, v, path, "too many limits in one assertion");
	if (!(lim.text = strdup(s)))
		return oom(c);
	a->limits[a->nlimits++] = lim;
	return 0;
}

static int h_selector(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_assertion *a = obj;
	enum tg_selector sel = TG_SEL_LOAD;
	const char *what = "a load step name like \"warmup\"";
	if (!strcmp(f->key, "task")) {
		sel = TG_SEL_TASK;
		what = "a task name or glob like \"demo_server::*\"";
	} else if (!strcmp(f->key, "function")) {
		sel = TG_SEL_FUNCTION;
		what = "a function name or glob like \"demo_server::compute_hash\"";
	}
	const char *s;
	int rc = scalar(c, v, path, what, &s);
	if (rc)
		return rc;
	if (!*s)
		return fail(c, v, path, "must not be empty");
	free(a->pattern);
	if (!(a->pattern = strdup(s)))
		return oom(c);
	a->sel = sel;
	return 0;
}

static int h_allow_missing(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			   void *obj)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	struct tg_assertion *a = obj;
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "true or false", &s);
	if (rc)
		return rc;
	for (size_t i = 0; i < N(yes); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			a->allow_missing = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return fail(c, v, path, "expected true or false, got %s", describe(v, q, sizeof q));
}

static int h_mode(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_assertion *a = obj;
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "warn or fail", &s);
	if (rc)
		return rc;
	if (strcmp(s, "warn") && strcmp(s, "fail"))
		return fail(c, v, path, "expected warn (report failures without failing the run) or "
					"fail, got %s", describe(v, q, sizeof q));
	a->warn = !strcmp(s, "warn");
	return 0;
}

static const char *const selectors[] = { "task", "function", "load", NULL };

static const struct field assertion_fields[] = {
	FIELD("task", h_selector),
	FIELD("function", h_selector),
	FIELD("load", h_selector),
	FIELD("allow_missing", h_allow_missing),
	FIELD("mode", h_mode),
#define X(kind, key, unit, load) { key, h_limit, 0, kind, 0, NULL },
	LIMITS(X)
#undef X
};

static int assertion_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			   yaml_node_t *const *seen);
static const struct table assertion_table = TABLE(assertion_fields, assertion_check);

/* At most one selector; the error is at the later of the first two. */
static int one_selector(struct ctx *c, const char *path, yaml_node_t *const *seen)
{
	yaml_node_t *first = NULL, *second = NULL;
	const char *first_key = NULL, *second_key = NULL;
	char sub[PATH_LEN];
	for (const char *const *k = selectors; *k; k++) {
		yaml_node_t *key = seen[field_index(&assertion_table, *k)];
		if (!key)
			continue;
		if (!first || key->start_mark.index < first->start_mark.index) {
			second = first, second_key = first_key;
			first = key, first_key = *k;
		} else if (!second || key->start_mark.index < second->start_mark.index) {
			second = key, second_key = *k;
		}
	}
	if (!second)
		return 0;
	join_key(sub, path, second_key);
	return fail(c, second, sub,
		    "an entry has at most one selector, but this one has both %s (line %zu) and %s "
		    "(split it into two entries)",
		    first_key, first->start_mark.line + 1, second_key);
}

/* "max_poll, p50_poll, ...": the limits an entry selecting with SEL can take. */
static void limits_for(enum tg_selector sel, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int k = 1; k < TG_LIM__COUNT; k++) {
		if (misplaced_limit(sel, (enum tg_limit_kind)k))
			continue;
		int w = snprintf(out + o, len - o, "%s%s", o ? ", " : "", tg_limit_name(k));
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
}

static int assertion_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			   yaml_node_t *const *seen)
{
	struct tg_assertion *a = obj;
	char sub[PATH_LEN], list[512];
	int rc = one_selector(c, path, seen);
	if (rc)
		return rc;
	if (!a->nlimits) {
		limits_for(a->sel, list, sizeof list);
		return fail(c, n, path, "an assertion needs at least one limit: %s", list);
	}
	for (size_t i = 0; i < a->nlimits; i++) {
		struct tg_limit *l = &a->limits[i];
		yaml_node_t *key = seen[field_index(&assertion_table, tg_limit_name(l->kind))];
		l->line = (int)key->start_mark.line + 1;
		l->column = (int)key->start_mark.column + 1;
	}
	/* limits are in document order: the first misplaced one is the first in the file */
	for (size_t i = 0; i < a->nlimits; i++) {
		const char *why = misplaced_limit(a->sel, a->limits[i].kind);
		if (!why)
			continue;
		join_key(sub, path, tg_limit_name(a->limits[i].kind));
		return fail_at(c, (size_t)a->limits[i].line - 1, (size_t)a->limits[i].column - 1, sub,
			       "%s %s", tg_limit_name(a->limits[i].kind), why);
	}
	return 0;
}

static int parse_assertion(struct ctx *c, yaml_node_t *item, const char *path,
			   struct tg_assertion *a)
{
	yaml_node_t *seen[MAX_FIELDS];
	a->line = (int)item->start_mark.line + 1;
	a->column = (int)item->start_mark.column + 1;
	if (item->type != YAML_MAPPING_NODE)
		return fail_type(c, item, path, "an assertion (a mapping like {max_poll: 50ms})");
	size_t n = (size_t)(item->data.mapping.pairs.top - item->data.mapping.pairs.start);
	if (!(a->limits = calloc(n ? n : 1, sizeof *a->limits)))
		return oom(c);
	c->limit_cap = n;
	int rc = walk_map(c, item, path, &assertion_table, a, seen);
	return rc ? rc : assertion_check(c, item, path, a, seen);
}

int h_assertions(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		 void *obj)
{
	struct tg_spec *s = obj;
	char sub[PATH_LEN];
	int bad = 0;
	s->has_assertions = true; /* "assertions: []" turns the default check off */
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of assertions");
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return 0;
	if (!(s->assertions = calloc(n, sizeof *s->assertions)))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node(c, v->data.sequence.items.start[i]);
		s->nassertions = i + 1;
		join_index(sub, path, i);
		if (!item)
			return fail(c, v, sub, "malformed YAML list");
		int rc = budget(c, item, sub);
		if (!rc)
			rc = parse_assertion(c, item, sub, &s->assertions[i]);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

/* -------------------------------------------------- load selectors vs steps */

static bool step_matches(const struct tg_step *st, size_t n, const char *pattern)
{
	for (size_t i = 0; i < n; i++) {
		if (tg_is_glob(pattern) ? tg_glob_match(pattern, st[i].name) : !strcmp(pattern, st[i].name))
			return true;
		if (step_matches(st[i].children, st[i].nchildren, pattern))
			return true;
	}
	return false;
}

#define STEP_LIST_LEN 160 /* step names shown in an error before "and N more" */

/* Appends the quoted names of STEPS (a parallel step before its children) to OUT at *O,
 * counting in *MORE those that do not fit in STEP_LIST_LEN bytes. */
static void list_steps(const struct tg_step *st, size_t n, char *out, size_t *o, size_t *more)
{
	char q[QUOTE_LEN];
	for (size_t i = 0; i < n; i++) {
		quote(q, sizeof q, st[i].name, strlen(st[i].name));
		if (!*more && *o + strlen(q) + 2 < STEP_LIST_LEN)
			*o += (size_t)snprintf(out + *o, STEP_LIST_LEN - *o, "%s%s", *o ? ", " : "", q);
		else
			++*more;
		list_steps(st[i].children, st[i].nchildren, out, o, more);
	}
}

static int unknown_step(struct ctx *c, const struct tg_spec *s, yaml_node_t *v, const char *path,
			const char *pattern)
{
	char q[QUOTE_LEN], names[STEP_LIST_LEN], tail[48] = "";
	size_t o = 0, more = 0;
	const char *what = tg_is_glob(pattern) ? "no load step name matches" : "no load step is named";
	quote(q, sizeof q, pattern, strlen(pattern));
	if (!s->nsteps)
		return fail(c, v, path, "%s %s (the spec has no load steps)", what, q);
	names[0] = '\0';
	list_steps(s->steps, s->nsteps, names, &o, &more);
	if (more)
		snprintf(tail, sizeof tail, " and %zu more", more);
	return fail(c, v, path, "%s %s (the steps are %s%s)", what, q, names, tail);
}

/* The value of the first key named KEY in mapping N, or NULL. */
static yaml_node_t *value_of(struct ctx *c, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
			return node(c, p->value);
	}
	return NULL;
}

/* Every load: selector names a step: run after the whole spec was read, since
 * assertions may come before load in the file. */
int check_load_selectors(struct ctx *c, const struct tg_spec *s, yaml_node_t *root)
{
	char sub[PATH_LEN];
	int bad = 0;
	yaml_node_t *list = value_of(c, root, "assertions");
	if (!list || list->type != YAML_SEQUENCE_NODE)
		return 0;
	for (size_t i = 0; i < s->nassertions; i++) {
		const struct tg_assertion *a = &s->assertions[i];
		if (a->sel != TG_SEL_LOAD || step_matches(s->steps, s->nsteps, a->pattern))
			continue;
		yaml_node_t *item = node(c, list->data.sequence.items.start[i]);
		yaml_node_t *v = item ? value_of(c, item, "load") : NULL;
		snprintf(sub, sizeof sub, "assertions[%zu].load", i);
		bad = unknown_step(c, s, v ? v : list, sub, a->pattern);
		if (!go_on(c, bad))
			return bad;
	}
	return bad;
}

/* walk_map keeps the keys it saw in an array of MAX_FIELDS */
_Static_assert(N(allow_fields) <= MAX_FIELDS &&
		       N(assertion_fields) <= MAX_FIELDS,
	       "raise MAX_FIELDS");
