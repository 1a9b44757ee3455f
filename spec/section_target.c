/* The target section's tables: command, cwd, env, user, the ready checks (tcp,
 * http, a log regex with a bound on its cost, delay) and stop. */
#define _GNU_SOURCE
#include "spec_parse.h"

#include <ctype.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ------------------------------------------------------------------ target */

int h_version(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
	      void *obj)
{
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "1", &s);
	if (rc)
		return rc;
	if (strcmp(s, "1"))
		return fail(c, v, path, "expected 1 (the only spec version this tokio-guard reads), got %s",
			    describe(v, q, sizeof q));
	((struct tg_spec *)obj)->version = 1;
	return 0;
}

static int h_command(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		     void *obj)
{
	return parse_argv(c, v, path, &((struct tg_spec *)obj)->target.argv);
}

/* A folder relative to the spec's, made absolute, at OFF. */
int h_cwd(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	char **dst = (char **)((char *)obj + f->off);
	const char *dir;
	int rc = scalar(c, v, path, "a folder", &dir);
	if (rc)
		return rc;
	if (!*dir)
		return fail(c, v, path, "must not be empty (write . for the spec's folder)");
	free(*dst);
	if (!(*dst = abs_join(c->dir, dir)))
		return oom(c);
	return 0;
}

struct env_entry {
	const char *key;
	yaml_node_t *node;
	size_t i;
};

static int env_cmp(const void *a, const void *b)
{
	const struct env_entry *x = a, *y = b;
	int r = strcmp(x->key, y->key);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

static int header_cmp(const void *a, const void *b)
{
	const struct env_entry *x = a, *y = b;
	int r = strcasecmp(x->key, y->key);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

/* HTTP header names are tokens (RFC 9110), values one line. */
static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* A mapping of strings to strings into *OUT, as NULL-terminated "KEY=VALUE" (env) or
 * "Name: value" (HEADERS; names compared without case) lines. */
int parse_kv(struct ctx *c, yaml_node_t *v, const char *path, char ***out, bool headers)
{
	char q[QUOTE_LEN], sub[PATH_LEN];
	int rc = 0;

	if (is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return fail_type(c, v, path, headers ? "a mapping of header names to values"
						     : "a mapping of variable names to values");
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	struct env_entry *ent = calloc(n + 1, sizeof *ent);
	struct strv sv = { 0 };
	if (!ent)
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
		yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
		const char *name, *value;
		if (!k || !val) {
			rc = fail(c, v, path, "malformed YAML mapping");
			goto out;
		}
		if ((rc = budget(c, k, path)))
			goto out;
		const char *what = headers ? "a header name" : "a variable name";
		if (k->type != YAML_SCALAR_NODE || is_null(k)) {
			rc = fail(c, k, path, "expected %s, got %s", what, describe(k, q, sizeof q));
			goto out;
		}
		if ((rc = scalar(c, k, path, what, &name)))
			goto out;
		join_key(sub, path, name);
		if (!headers && strchr(name, '=')) {
			rc = fail(c, k, sub, "a variable name cannot hold '='");
			goto out;
		}
		if (headers && !header_name_ok(name)) {
			rc = fail(c, k, sub, "expected a header name like Content-Type, got %s",
				  describe(k, q, sizeof q));
			goto out;
		}
		if (is_null(val)) {
			rc = fail(c, val, sub, "expected a value, got nothing (write %s: \"\" for an empty value)",
				  name);
			goto out;
		}
		if ((rc = scalar(c, val, sub, "a string", &value)))
			goto out;
		if (headers && strpbrk(value, "\r\n")) {
			rc = fail(c, val, sub, "a header value must be one line, got %s",
				  describe(val, q, sizeof q));
			goto out;
		}
		size_t len = strlen(name) + strlen(value) + 3;
		char *kv = malloc(len);
		if (!kv) {
			rc = oom(c);
			goto out;
		}
		snprintf(kv, len, headers ? "%s: %s" : "%s=%s", name, value);
		if (strv_push(&sv, kv)) {
			rc = oom(c);
			goto out;
		}
		ent[i] = (struct env_entry){ name, k, i };
	}
	qsort(ent, n, sizeof *ent, headers ? header_cmp : env_cmp);
	for (size_t i = 1; i < n; i++) {
		if (headers ? !strcasecmp(ent[i].key, ent[i - 1].key) : !strcmp(ent[i].key, ent[i - 1].key)) {
			join_key(sub, path, ent[i].key);
			rc = fail(c, ent[i].node, sub, "duplicate key (first given on line %zu)",
				  ent[i - 1].node->start_mark.line + 1);
			goto out;
		}
	}
	tg_strv_free(*out);
	if (!(*out = strv_take(&sv)))
		rc = oom(c);
out:
	strv_drop(&sv);
	free(ent);
	return rc;
}

int h_env(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	return parse_kv(c, v, path, (char ***)((char *)obj + f->off), false);
}

/* "host:port" or "[v6]:port" into *HOST and *PORT (malloc'd). */
int parse_addr(struct ctx *c, yaml_node_t *v, const char *path, char **hostp, char **portp)
{
	char q[QUOTE_LEN];
	const char *a, *host, *port;
	size_t hl;
	int rc = scalar(c, v, path, "an address like 127.0.0.1:3000", &a);
	if (rc)
		return rc;
	quote(q, sizeof q, a, strlen(a));
	if (a[0] == '[') {
		const char *e = strchr(a, ']');
		if (!e || e == a + 1 || e[1] != ':')
			return fail(c, v, path, "expected an address like [::1]:3000, got %s", q);
		host = a + 1;
		hl = (size_t)(e - host);
		port = e + 2;
	} else {
		const char *colon = strrchr(a, ':');
		if (!colon || colon == a)
			return fail(c, v, path,
				    "expected host:port like 127.0.0.1:3000 or [::1]:3000, got %s", q);
		host = a;
		hl = (size_t)(colon - a);
		port = colon + 1;
		if (memchr(host, ':', hl))
			return fail(c, v, path, "an IPv6 address needs brackets, like [::1]:3000, got %s", q);
	}
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)host[i] <= 0x20 || host[i] == 0x7f || host[i] == '/' ||
		    host[i] == '[' || host[i] == ']')
			return fail(c, v, path,
				    "expected host:port like 127.0.0.1:3000 or [::1]:3000, got %s", q);
	unsigned long p = 0;
	bool ok = *port && strlen(port) <= 5;
	for (const char *x = port; ok && *x; x++)
		ok = is_digit(*x);
	if (ok)
		p = strtoul(port, NULL, 10);
	if (!ok || p < 1 || p > 65535)
		return fail(c, v, path, "expected a port from 1 to 65535 after the host, got %s", q);
	char *h = strndup(host, hl), *pt = strdup(port);
	if (!h || !pt) {
		free(h);
		free(pt);
		return oom(c);
	}
	free(*hostp);
	free(*portp);
	*hostp = h;
	*portp = pt;
	return 0;
}

static int h_ready_tcp(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		       void *obj)
{
	struct tg_spec *s = obj;
	int rc = parse_addr(c, v, path, &s->target.ready.tcp_host, &s->target.ready.tcp_port);
	if (!rc)
		s->target.ready.kind = TG_READY_TCP;
	return rc;
}

/* An http:// or https:// URL with a host, no blanks or control characters. */
int parse_url(struct ctx *c, yaml_node_t *v, const char *path, char **out)
{
	char q[QUOTE_LEN];
	const char *u;
	int rc = scalar(c, v, path, "a URL like http://127.0.0.1:3000/", &u);
	if (rc)
		return rc;
	size_t skip = !strncasecmp(u, "http://", 7) ? 7 : !strncasecmp(u, "https://", 8) ? 8 : 0;
	quote(q, sizeof q, u, strlen(u));
	if (!skip)
		return fail(c, v, path, "expected a URL starting with http:// or https://, got %s", q);
	if (!u[skip] || strchr("/?#:", u[skip]))
		return fail(c, v, path, "the URL has no host, got %s", q);
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return fail(c, v, path, "a URL cannot hold blanks or control characters (write %%20), got %s",
				    q);
	free(*out);
	if (!(*out = strdup(u)))
		return oom(c);
	return 0;
}

static int h_ready_http(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			void *obj)
{
	struct tg_spec *s = obj;
	int rc = parse_url(c, v, path, &s->target.ready.http_url);
	if (!rc)
		s->target.ready.kind = TG_READY_HTTP;
	return rc;
}

/* What glibc's regcomp would make of RE, before it runs: it copies the operand of a+
 * once and of a{n,m} m times, and computes epsilon closures whose cost explodes with
 * repetitions of repeated groups, so "a++++...", "((a{9}){9}){9}" or "((((a*)+)+)+)+"
 * take seconds to minutes and gigabytes from a few dozen bytes. Sets *SIZE to the
 * approximate parse tree size (saturating at REGEX_CAP); returns REGEX_OK,
 * REGEX_STACKED (a repetition operator right after another) or REGEX_NESTED
 * (repetitions nested more than MAX_REGEX_NESTING deep). */
#define REGEX_CAP 1000000000ull
enum { REGEX_OK, REGEX_STACKED, REGEX_NESTED };

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b > REGEX_CAP ? REGEX_CAP : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > REGEX_CAP / b ? REGEX_CAP : a * b;
}

static int regex_cost(const char *re, uint64_t *size)
{
	struct frame {
		uint64_t total, last; /* nodes so far; nodes of the last atom */
		int nest, last_nest;  /* deepest repetition nesting so far; of the last atom */
	} st[MAX_REGEX_BYTES + 2];
	size_t d = 0;
	bool after_rep = false;
	st[0] = (struct frame){ 0 };
	*size = 0;
	for (const char *p = re; *p; p++) {
		uint64_t atom = 1, copies = 0;
		int atom_nest = 0;
		bool rep = *p == '*' || *p == '?' || *p == '+' || (*p == '{' && is_digit(p[1]));
		if (rep && after_rep)
			return REGEX_STACKED;
		after_rep = rep;
		switch (*p) {
		case '\\':
			if (p[1])
				p++;
			break;
		case '[': /* a bracket expression is one node: skip to its end */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					char close = p[1];
					const char *e = p + 2;
					while (*e && !(*e == close && e[1] == ']'))
						e++;
					p = *e ? e + 1 : e - 1;
				}
				p++;
			}
			if (!*p)
				p--;
			break;
		case '(':
			if (d + 1 < sizeof st / sizeof st[0])
				st[++d] = (struct frame){ 0 };
			continue;
		case ')':
			if (d) {
				atom = sat_add(st[d].total, 1);
				atom_nest = st[d].nest;
				d--;
			}
			break;
		case '|':
			st[d].last = 0;
			st[d].last_nest = 0;
			continue;
		case '*':
		case '?':
			copies = 1;
			break;
		case '+':
			copies = 2;
			break;
		case '{': {
			uint64_t n = 0, m = 0;
			bool comma = false;
			for (p++; is_digit(*p) || *p == ','; p++) {
				if (*p == ',')
					comma = true;
				else if (comma)
					m = m < 100000 ? m * 10 + (uint64_t)(*p - '0') : m;
				else
					n = n < 100000 ? n * 10 + (uint64_t)(*p - '0') : n;
			}
			if (!*p)
				p--;
			copies = (m > n ? m : n) + 1;
			break;
		}
		default:
			break;
		}
		struct frame *f = &st[d];
		if (copies) { /* a repetition of the last atom */
			f->total = sat_add(f->total, sat_mul(f->last, copies - 1));
			f->last = sat_mul(f->last, copies);
			f->last_nest++;
			if (f->last_nest > MAX_REGEX_NESTING)
				return REGEX_NESTED;
			if (f->last_nest > f->nest)
				f->nest = f->last_nest;
			continue;
		}
		f->total = sat_add(f->total, atom);
		f->last = atom;
		f->last_nest = atom_nest;
		if (atom_nest > f->nest)
			f->nest = atom_nest;
	}
	uint64_t total = st[d].total;
	while (d--)
		total = sat_add(total, st[d].total);
	*size = total;
	return REGEX_OK;
}

static int h_ready_log(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		       void *obj)
{
	struct tg_spec *s = obj;
	char q[QUOTE_LEN], why[256];
	const char *re;
	regex_t rx;
	int rc = scalar(c, v, path, "a regular expression like \"listening on\"", &re);
	if (rc)
		return rc;
	if (!*re)
		return fail(c, v, path, "must not be empty (it would match any line)");
	quote(q, sizeof q, re, strlen(re));
	if (strlen(re) > MAX_REGEX_BYTES)
		return fail(c, v, path, "regular expression too long (more than %d bytes)", MAX_REGEX_BYTES);
	uint64_t size;
	switch (regex_cost(re, &size)) {
	case REGEX_STACKED:
		return fail(c, v, path,
			    "regular expression %s has repetition operators one after another, like *+ or *? "
			    "(POSIX regular expressions have no lazy or possessive forms: write one)",
			    q);
	case REGEX_NESTED:
		return fail(c, v, path,
			    "regular expression %s nests repetitions more than %d deep, like ((a*)+)+ "
			    "(too slow to compile)",
			    q, MAX_REGEX_NESTING);
	}
	if (size > MAX_REGEX_NODES)
		return fail(c, v, path,
			    "regular expression %s is too complex (its repetitions, + and {n,m}, expand to more than %d parts)",
			    q, MAX_REGEX_NODES);
	int e = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (e) {
		regerror(e, &rx, why, sizeof why);
		return fail(c, v, path, "invalid regular expression %s: %s", q, why);
	}
	regfree(&rx);
	free(s->target.ready.log_regex);
	if (!(s->target.ready.log_regex = strdup(re)))
		return oom(c);
	s->target.ready.kind = TG_READY_LOG;
	return 0;
}

static int h_ready_delay(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			 void *obj)
{
	int rc = h_dur(c, f, v, path, obj);
	if (!rc)
		((struct tg_spec *)obj)->target.ready.kind = TG_READY_DELAY;
	return rc;
}

static int h_user(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_spec *s = obj;
	char q[QUOTE_LEN];
	const char *u;
	int rc = scalar(c, v, path, "a user name or a numeric uid", &u);
	if (rc)
		return rc;
	quote(q, sizeof q, u, strlen(u));
	if (!*u)
		return fail(c, v, path, "must not be empty");
	if (is_digit(*u)) {
		uint64_t x = 0;
		bool ok = true;
		for (const char *p = u; ok && *p; p++) {
			ok = is_digit(*p) && x <= 4294967294ull;
			x = x * 10 + (uint64_t)(*p - '0');
		}
		if (ok && x <= 4294967294ull)
			goto store;
		if (!ok) {
			const char *p = u;
			while (is_digit(*p))
				p++;
			if (*p)
				goto name; /* "1abc" is a (strange) name */
		}
		return fail(c, v, path, "expected a uid from 0 to 4294967294, got %s", q);
	}
name:
	if (*u == '-')
		return fail(c, v, path, "expected a user name or a numeric uid, got %s", q);
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == ':' || *p == '/')
			return fail(c, v, path, "expected a user name or a numeric uid, got %s", q);
store:
	free(s->target.user);
	if (!(s->target.user = strdup(u)))
		return oom(c);
	return 0;
}

static int h_signal(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		    void *obj)
{
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "a signal like SIGTERM", &s);
	if (rc)
		return rc;
	int sig = tg_parse_signal(s);
	if (sig < 0)
		return fail(c, v, path, "unknown signal %s (expected a name like SIGTERM, TERM or INT, or a number like 15)",
			    describe(v, q, sizeof q));
	((struct tg_spec *)obj)->target.stop.signal = sig;
	return 0;
}

static const char *const ready_kinds[] = { "tcp", "http", "log", "delay", NULL };

static const struct field ready_fields[] = {
	FIELD("tcp", h_ready_tcp),
	FIELD("http", h_ready_http),
	FIELD("log", h_ready_log),
	{ "delay", h_ready_delay, offsetof(struct tg_spec, target.ready.delay_ns), 0, UINT64_MAX, NULL },
	DUR("timeout", struct tg_spec, target.ready.timeout_ns, 1),
};

static int ready_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen);
static const struct table ready_table = TABLE(ready_fields, ready_check);

static int ready_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen)
{
	return exactly_one(c, n, path, &ready_table, seen, ready_kinds);
}

static const struct field stop_fields[] = {
	FIELD("signal", h_signal),
	DUR("grace", struct tg_spec, target.stop.grace_ns, 0),
};
static const struct table stop_table = TABLE(stop_fields, NULL);

static const struct field target_fields[] = {
	FIELD("command", h_command),
	{ "cwd", h_cwd, offsetof(struct tg_spec, target.cwd), 0, 0, NULL },
	{ "env", h_env, offsetof(struct tg_spec, target.env), 0, 0, NULL },
	FIELD("user", h_user),
	SECTION("ready", ready_table),
	SECTION("stop", stop_table),
};

static int target_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			yaml_node_t *const *seen);
const struct table target_table = TABLE(target_fields, target_check);

static int target_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			yaml_node_t *const *seen)
{
	return require(c, n, path, &target_table, seen, "command");
}

/* walk_map keeps the keys it saw in an array of MAX_FIELDS */
_Static_assert(N(target_fields) <= MAX_FIELDS &&
		       N(ready_fields) <= MAX_FIELDS &&
		       N(stop_fields) <= MAX_FIELDS,
	       "raise MAX_FIELDS");
