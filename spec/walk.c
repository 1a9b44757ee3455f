/* The generic YAML walker (spec_parse.h): the parse context and its error list,
 * every error one line with the position of the offending node; walk_map(),
 * which checks a mapping against its key table; and the generic handlers
 * (string, duration, integer, sub-mapping, argv) the section tables use. */
#define _GNU_SOURCE
#include "spec_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------ parse context */

static void format_at(char *out, size_t len, const char *file, size_t line0, size_t col0,
		      const char *path, const char *fmt, va_list ap)
{
	size_t n = 0;
	int w = snprintf(out, len, "%s:%zu:%zu: ", file, line0 + 1, col0 + 1);
	n = w < 0 ? 0 : (size_t)w;
	if (path && *path && n < len) {
		w = snprintf(out + n, len - n, "%s: ", path);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (n < len)
		vsnprintf(out + n, len - n, fmt, ap);
	one_line(out);
}

/* Records one error: the first in ERR, each in ALL; one past the cap halts the walk. */
static int vfail_at(struct ctx *c, size_t line0, size_t col0, const char *path, const char *fmt,
		    va_list ap)
{
	va_list again;

	if (c->nerrors == TG_SPEC_MAX_ERRORS) {
		if (c->all)
			c->all->more = true;
		c->halt = true;
		return -EINVAL;
	}
	if (!c->nerrors && c->err && c->errlen) {
		va_copy(again, ap);
		format_at(c->err, c->errlen, c->file, line0, col0, path, fmt, again);
		va_end(again);
	}
	if (c->all) {
		format_at(c->all->msg[c->nerrors], sizeof c->all->msg[0], c->file, line0, col0, path,
			  fmt, ap);
		c->all->n = c->nerrors + 1;
	}
	c->nerrors++;
	return -EINVAL;
}

/* After an error RC in one field or list item: true when the walk can go on to
 * the next (a value that was wrong, not memory or a budget that ran out). */
bool go_on(const struct ctx *c, int rc)
{
	return rc == -EINVAL && !c->halt;
}

__attribute__((format(printf, 5, 6))) int fail_at(struct ctx *c, size_t line0, size_t col0,
						   const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail_at(c, line0, col0, path, fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((format(printf, 4, 5))) int fail(struct ctx *c, const yaml_node_t *n,
						const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail_at(c, n->start_mark.line, n->start_mark.column, path, fmt, ap);
	va_end(ap);
	return rc;
}

int oom(struct ctx *c)
{
	if (c->err && c->errlen) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->file);
		one_line(c->err);
	}
	return -ENOMEM;
}

yaml_node_t *node(struct ctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* "nothing", "a list", "a mapping" or the quoted scalar. */
const char *describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		quote(buf, len, (const char *)n->data.scalar.value, n->data.scalar.length);
		return buf;
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

int fail_type(struct ctx *c, const yaml_node_t *n, const char *path, const char *what)
{
	char q[QUOTE_LEN];
	return fail(c, n, path, "expected %s, got %s", what, describe(n, q, sizeof q));
}

/* Counts one more value visited. Aliases let a small file name the same subtree many
 * times over; what is visited, and copied, stays bounded. */
int budget(struct ctx *c, const yaml_node_t *n, const char *path)
{
	if (++c->values <= MAX_VALUES)
		return 0;
	int rc = fail(c, n, path, "too many values (more than %d, counting what aliases repeat)",
		      MAX_VALUES);
	c->halt = true;
	return rc;
}

/* The text of a non-null scalar (no embedded NUL), or an error naming WHAT was expected. */
int scalar(struct ctx *c, const yaml_node_t *n, const char *path, const char *what,
	   const char **out)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return fail_type(c, n, path, what);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return fail(c, n, path, "expected %s, got a string holding a NUL character", what);
	/* what is read is copied: an alias of a long string, repeated, must not be gigabytes */
	c->text += n->data.scalar.length;
	if (c->text > MAX_TEXT_BYTES) {
		int rc = fail(c, n, path, "too much text (more than %u MB, counting what aliases repeat)",
			      MAX_TEXT_BYTES >> 20);
		c->halt = true;
		return rc;
	}
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/* The column of byte OFF of scalar N's value when it can be known exactly (one line,
 * ASCII, no escapes), else the scalar's own column. */
static size_t scalar_col(const yaml_node_t *n, size_t off)
{
	const yaml_mark_t *s = &n->start_mark, *e = &n->end_mark;
	size_t len = n->data.scalar.length, quotes;
	switch (n->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE: quotes = 0; break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: quotes = 1; break;
	default: return s->column;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n->data.scalar.value[i] >= 0x80)
			return s->column;
	if (s->line != e->line || e->column - s->column != len + 2 * quotes)
		return s->column;
	return s->column + quotes + off;
}

void join_key(char *out, const char *path, const char *key)
{
	snprintf(out, PATH_LEN, "%s%s%s", path, *path ? "." : "", key);
}

void join_index(char *out, const char *path, size_t i)
{
	snprintf(out, PATH_LEN, "%s[%zu]", path, i);
}

/* ------------------------------------------------------------ tables, walker */

size_t field_index(const struct table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->fields[i].key, key))
			return i;
	return t->n;
}

static int unknown_key(struct ctx *c, const yaml_node_t *k, const char *path, const struct table *t)
{
	char q[QUOTE_LEN], list[512];
	size_t o = 0;
	list[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		if (!t->fields[i].fn)
			continue;
		int w = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", t->fields[i].key);
		if (w < 0 || (size_t)w >= sizeof list - o)
			break;
		o += (size_t)w;
	}
	quote(q, sizeof q, (const char *)k->data.scalar.value, k->data.scalar.length);
	if (!strcmp((const char *)k->data.scalar.value, "<<"))
		return fail(c, k, path, "unknown key %s (YAML merge keys are not supported; expected one of: %s)",
			    q, list);
	return fail(c, k, path, "unknown key %s (expected one of: %s)", q, list);
}

/* One key K of a mapping at PATH and its value V. */
static int walk_key(struct ctx *c, yaml_node_t *k, yaml_node_t *v, const char *path,
		    const struct table *t, void *obj, yaml_node_t **seen)
{
	char q[QUOTE_LEN], sub[PATH_LEN];
	if (k->type != YAML_SCALAR_NODE)
		return fail(c, k, path, "expected a key name, got %s", describe(k, q, sizeof q));
	const char *name = (const char *)k->data.scalar.value;
	size_t i = strlen(name) == k->data.scalar.length ? field_index(t, name) : t->n;
	if (i == t->n)
		return unknown_key(c, k, path, t);
	const struct field *f = &t->fields[i];
	join_key(sub, path, f->key);
	if (seen[i])
		return fail(c, k, sub, "duplicate key (first given on line %zu)",
			    seen[i]->start_mark.line + 1);
	seen[i] = k;
	return f->fn(c, f, v, sub, obj);
}

/* Checks NODE's keys against T and runs their handlers in document order. A null value
 * reads as an empty mapping. SEEN (MAX_FIELDS entries) gets each field's key node.
 * A wrong key or value does not stop the walk: `check` reports them all at once. */
int walk_map(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
	     void *obj, yaml_node_t **seen)
{
	int bad = 0;
	for (size_t i = 0; i < MAX_FIELDS; i++)
		seen[i] = NULL;
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail_type(c, n, path, "a mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		if (!k || !v)
			return fail(c, n, path, "malformed YAML mapping");
		int rc = budget(c, k, path);
		if (!rc)
			rc = walk_key(c, k, v, path, t, obj, seen);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

int h_section(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
	      void *obj)
{
	yaml_node_t *seen[MAX_FIELDS];
	obj = (char *)obj + f->off;
	int rc = walk_map(c, v, path, f->sub, obj, seen);
	if (!rc && f->sub->check)
		rc = f->sub->check(c, v, path, obj, seen);
	return rc;
}

int require(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
	    yaml_node_t *const *seen, const char *key)
{
	char sub[PATH_LEN];
	if (seen[field_index(t, key)])
		return 0;
	join_key(sub, path, key);
	return fail(c, n, sub, "required field is missing");
}

/* Exactly one of the keys in KINDS (NULL-terminated) must be present. */
int exactly_one(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
		yaml_node_t *const *seen, const char *const *kinds)
{
	char list[256], sub[PATH_LEN];
	size_t o = 0;
	const char *first = NULL;
	yaml_node_t *first_key = NULL;

	list[0] = '\0';
	for (const char *const *k = kinds; *k; k++) {
		int w = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *k);
		if (w > 0 && (size_t)w < sizeof list - o)
			o += (size_t)w;
	}
	for (const char *const *k = kinds; *k; k++) {
		yaml_node_t *key = seen[field_index(t, *k)];
		if (!key)
			continue;
		if (!first_key || key->start_mark.index < first_key->start_mark.index) {
			first_key = key;
			first = *k;
		}
	}
	if (!first_key)
		return fail(c, n, path, "expected exactly one of: %s", list);
	for (const char *const *k = kinds; *k; k++) {
		yaml_node_t *key = seen[field_index(t, *k)];
		if (key && key != first_key) {
			join_key(sub, path, *k);
			return fail(c, key, sub, "only one of %s can be given (\"%s\" is on line %zu)",
				    list, first, first_key->start_mark.line + 1);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ generic handlers */

int h_str(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	const char *s;
	int rc = scalar(c, v, path, "a string", &s);
	if (rc)
		return rc;
	if (!*s)
		return fail(c, v, path, "must not be empty");
	char **dst = (char **)((char *)obj + f->off);
	free(*dst);
	if (!(*dst = strdup(s)))
		return oom(c);
	return 0;
}

int h_dur(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	const char *s;
	char why[2 * QUOTE_LEN], q[QUOTE_LEN], lim[32];
	uint64_t ns;
	int rc = scalar(c, v, path, "a duration like 250ms", &s);
	if (rc)
		return rc;
	if (tg_parse_duration_msg(s, &ns, why, sizeof why))
		return fail(c, v, path, "%s", why);
	if (ns < f->min) {
		quote(q, sizeof q, s, strlen(s));
		if (f->min == 1)
			return fail(c, v, path, "must be more than 0, got %s", q);
		tg_format_duration(f->min, lim, sizeof lim);
		return fail(c, v, path, "must be at least %s, got %s", lim, q);
	}
	*(uint64_t *)((char *)obj + f->off) = ns;
	return 0;
}

/* A decimal integer from LO to HI. */
int parse_uint(struct ctx *c, yaml_node_t *v, const char *path, uint64_t lo, uint64_t hi,
	       uint64_t *out)
{
	char what[96], q[QUOTE_LEN];
	const char *s;
	snprintf(what, sizeof what, "an integer from %llu to %llu", (unsigned long long)lo,
		 (unsigned long long)hi);
	int rc = scalar(c, v, path, what, &s);
	if (rc)
		return rc;
	uint64_t x = 0;
	bool ok = is_digit(*s);
	for (const char *p = s; ok && *p; p++) {
		if (!is_digit(*p) || x > (UINT64_MAX - 9) / 10)
			ok = false;
		else
			x = x * 10 + (uint64_t)(*p - '0');
	}
	if (!ok || x < lo || x > hi)
		return fail(c, v, path, "expected %s, got %s", what, describe(v, q, sizeof q));
	*out = x;
	return 0;
}

int h_u32(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	uint64_t x;
	int rc = parse_uint(c, v, path, f->min, f->max, &x);
	if (!rc)
		*(uint32_t *)((char *)obj + f->off) = (uint32_t)x;
	return rc;
}


/* An argv: a list of strings, or one string split like a shell would. */
int parse_argv(struct ctx *c, yaml_node_t *v, const char *path, char ***out)
{
	char why[512], sub[PATH_LEN];
	const char *s;
	int rc;

	tg_strv_free(*out);
	*out = NULL;
	if (v->type == YAML_SEQUENCE_NODE) {
		struct strv sv = { 0 };
		size_t i = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
		     it++, i++) {
			yaml_node_t *item = node(c, *it);
			if (!item)
				continue;
			join_index(sub, path, i);
			if ((rc = budget(c, item, sub)) || (rc = scalar(c, item, sub, "a string", &s))) {
				strv_drop(&sv);
				return rc;
			}
			if (i == 0 && !*s) {
				strv_drop(&sv);
				return fail(c, item, sub, "the program name is empty");
			}
			if (strv_push(&sv, strdup(s))) {
				strv_drop(&sv);
				return oom(c);
			}
		}
		if (sv.n == 0)
			return fail(c, v, path, "the command is empty");
		if (!(*out = strv_take(&sv)))
			return oom(c);
		return 0;
	}
	if ((rc = scalar(c, v, path, "a command (a list like [\"./server\", \"--port\", \"3000\"] or a string)",
			 &s)))
		return rc;
	size_t off = 0;
	rc = split_words(s, out, why, sizeof why, &off);
	if (rc == -ENOMEM)
		return oom(c);
	if (rc)
		return fail_at(c, v->start_mark.line, scalar_col(v, off), path, "%s", why);
	if (!(*out)[0])
		return fail(c, v, path, "the command is empty");
	return 0;
}
