/* The load section: a table per step kind (exec, sleep, http, tcp, parallel);
 * step names are unique over all steps, children included. */
#define _GNU_SOURCE
#include "spec_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ----------------------------------------------------------- http, tcp steps */

static int h_method(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct tg_http_req *r = obj;
	char q[QUOTE_LEN];
	const char *m;
	int rc = scalar(c, v, path, "an HTTP method like GET", &m);
	if (rc)
		return rc;
	bool ok = *m && strlen(m) <= 32;
	for (const char *p = m; ok && *p; p++)
		ok = (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_';
	if (!ok)
		return fail(c, v, path, "expected an HTTP method in upper case like GET or POST, got %s",
			    describe(v, q, sizeof q));
	free(r->method);
	if (!(r->method = strdup(m)))
		return oom(c);
	return 0;
}

static int h_headers(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		     void *obj)
{
	return parse_kv(c, v, path, &((struct tg_http_req *)obj)->headers, true);
}

static int h_body(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_http_req *r = obj;
	const char *b;
	int rc = scalar(c, v, path, "a string (the request body)", &b);
	if (rc)
		return rc;
	free(r->body);
	if (!(r->body = strdup(b)))
		return oom(c);
	r->body_len = strlen(b);
	return 0;
}

/* Only checked here; read by read_body_file once http_check saw no body. */
static int h_body_file(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		       void *obj)
{
	const char *name;
	int rc = scalar(c, v, path, "a file name", &name);
	if (rc)
		return rc;
	if (!*name)
		return fail(c, v, path, "must not be empty");
	return 0;
}

/* Reads body_file V (relative to the spec's folder) into R->body, regular files only. */
static int read_body_file(struct ctx *c, yaml_node_t *v, const char *path, struct tg_http_req *r)
{
	char q[QUOTE_LEN];
	const char *name = (const char *)v->data.scalar.value;
	int rc = 0;
	char *full = abs_join(c->dir, name);
	if (!full)
		return oom(c);
	quote(q, sizeof q, full, strlen(full));
	/* O_NONBLOCK: a FIFO must not hang the parser; only regular files are read */
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	int e = 0;
	char *buf = NULL;
	if (fd < 0) {
		e = errno;
		rc = fail(c, v, path, "cannot open %s: %s", q, strerror(e));
		goto out;
	}
	if (fstat(fd, &st)) {
		e = errno;
		rc = fail(c, v, path, "cannot read %s: %s", q, strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(c, v, path, "cannot read %s: %s", q,
			  S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > MAX_BODY_BYTES) {
		rc = fail(c, v, path, "%s is too large for a request body (more than %u MiB)", q,
			  MAX_BODY_BYTES >> 20);
		goto out;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	if (!(buf = malloc(cap))) {
		rc = oom(c);
		goto out;
	}
	for (;;) {
		if (n == cap - 1) {
			if (cap > MAX_BODY_BYTES) {
				rc = fail(c, v, path, "%s is too large for a request body (more than %u MiB)", q,
					  MAX_BODY_BYTES >> 20);
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = oom(c);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			rc = fail(c, v, path, "cannot read %s: %s", q, strerror(e));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	free(r->body);
	r->body = buf;
	r->body_len = n;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(full);
	return rc;
}

static int h_status(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		    void *obj)
{
	uint64_t x;
	int rc = parse_uint(c, v, path, 100, 599, &x);
	if (!rc)
		((struct tg_http_req *)obj)->expect_status = (int)x;
	return rc;
}

static int h_http_url(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	return parse_url(c, v, path, &((struct tg_http_req *)obj)->url);
}

static const struct field http_req_fields[] = {
	FIELD("url", h_http_url),
	FIELD("method", h_method),
	FIELD("headers", h_headers),
	FIELD("body", h_body),
	FIELD("body_file", h_body_file),
	FIELD("expect_status", h_status),
	DUR("timeout", struct tg_http_req, timeout_ns, 1),
};

static int http_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen);
static const struct table http_table = TABLE(http_req_fields, http_check);

static int http_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen)
{
	yaml_node_t *b = seen[field_index(&http_table, "body")];
	yaml_node_t *bf = seen[field_index(&http_table, "body_file")];
	char sub[PATH_LEN];
	if (b && bf) {
		yaml_node_t *later = b->start_mark.index > bf->start_mark.index ? b : bf;
		join_key(sub, path, later == b ? "body" : "body_file");
		return fail(c, later, sub, "only one of body, body_file can be given (\"%s\" is on line %zu)",
			    later == b ? "body_file" : "body",
			    (later == b ? bf : b)->start_mark.line + 1);
	}
	int rc = require(c, n, path, &http_table, seen, "url");
	if (rc || !bf)
		return rc;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
		if (node(c, p->key) == bf) {
			join_key(sub, path, "body_file");
			return read_body_file(c, node(c, p->value), sub, obj);
		}
	return 0;
}

static int h_tcp_addr(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_tcp_req *r = obj;
	return parse_addr(c, v, path, &r->host, &r->port);
}

static int h_tcp_send(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_tcp_req *r = obj;
	char q[QUOTE_LEN];
	/* bytes: "\0" is fine here */
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(c, v, path, "expected a string (the bytes to send), got %s",
			    describe(v, q, sizeof q));
	size_t n = v->data.scalar.length;
	char *b = malloc(n + 1);
	if (!b)
		return oom(c);
	memcpy(b, v->data.scalar.value, n);
	b[n] = '\0';
	free(r->send);
	r->send = b;
	r->send_len = n;
	return 0;
}

static int h_tcp_expect(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			void *obj)
{
	struct tg_tcp_req *r = obj;
	const char *e;
	int rc = scalar(c, v, path, "a string (a part of the reply)", &e);
	if (rc)
		return rc;
	if (!*e)
		return fail(c, v, path, "must not be empty (leave expect out to accept any reply)");
	free(r->expect);
	if (!(r->expect = strdup(e)))
		return oom(c);
	return 0;
}

static const struct field tcp_req_fields[] = {
	FIELD("addr", h_tcp_addr),
	FIELD("send", h_tcp_send),
	FIELD("expect", h_tcp_expect),
	DUR("timeout", struct tg_tcp_req, timeout_ns, 1),
};

static int tcp_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		     yaml_node_t *const *seen);
static const struct table tcp_table = TABLE(tcp_req_fields, tcp_check);

static int tcp_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		     yaml_node_t *const *seen)
{
	int rc = require(c, n, path, &tcp_table, seen, "addr");
	return rc ? rc : require(c, n, path, &tcp_table, seen, "send");
}

/* -------------------------------------------------------------------- load */

static const char *const step_kinds[] = { "exec", "sleep", "http", "tcp", "parallel", NULL };

const char *tg_step_kind_name(enum tg_step_kind kind)
{
	switch (kind) {
	case TG_STEP_EXEC: return "exec";
	case TG_STEP_SLEEP: return "sleep";
	case TG_STEP_HTTP: return "http";
	case TG_STEP_TCP: return "tcp";
	case TG_STEP_PARALLEL: return "parallel";
	}
	return "step";
}

static int h_exec(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_step *st = obj;
	int rc = parse_argv(c, v, path, &st->argv);
	if (!rc)
		st->kind = TG_STEP_EXEC;
	return rc;
}

static int h_sleep(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	int rc = h_dur(c, f, v, path, obj);
	if (!rc)
		((struct tg_step *)obj)->kind = TG_STEP_SLEEP;
	return rc;
}

static int h_http(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_step *st = obj;
	st->http.timeout_ns = 10 * NS_PER_S;
	int rc = h_section(c, f, v, path, obj);
	if (rc)
		return rc;
	if (!st->http.method && !(st->http.method = strdup("GET")))
		return oom(c);
	if (!st->http.headers && !(st->http.headers = calloc(1, sizeof(char *))))
		return oom(c);
	st->kind = TG_STEP_HTTP;
	return 0;
}

static int h_tcp(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_step *st = obj;
	st->tcp.timeout_ns = 10 * NS_PER_S;
	int rc = h_section(c, f, v, path, obj);
	if (!rc)
		st->kind = TG_STEP_TCP;
	return rc;
}

static int h_rate(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	char why[2 * QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "a rate like 100/s", &s);
	if (rc)
		return rc;
	if (tg_parse_rate(s, &((struct tg_step *)obj)->traffic.rate_per_s, why, sizeof why))
		return fail(c, v, path, "%s", why);
	return 0;
}

static int h_requests(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	return parse_uint(c, v, path, 1, 1000000000000ull, &((struct tg_step *)obj)->traffic.requests);
}

static int parse_steps(struct ctx *c, yaml_node_t *v, const char *path, struct tg_step **out,
		       size_t *nout);

static int h_parallel(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_step *st = obj;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of steps to run at the same time");
	if (v->data.sequence.items.top == v->data.sequence.items.start)
		return fail(c, v, path, "expected at least one step to run");
	if (c->depth >= MAX_PARALLEL_DEPTH)
		return fail(c, v, path, "parallel steps nested more than %d deep", MAX_PARALLEL_DEPTH);
	st->kind = TG_STEP_PARALLEL;
	c->depth++;
	int rc = parse_steps(c, v, path, &st->children, &st->nchildren);
	c->depth--;
	return rc;
}

static const struct field step_fields[] = {
	STR("name", struct tg_step, name),
	FIELD("exec", h_exec),
	{ "sleep", h_sleep, offsetof(struct tg_step, sleep_ns), 0, UINT64_MAX, NULL },
	SECTION_AT("http", h_http, struct tg_step, http, http_table),
	SECTION_AT("tcp", h_tcp, struct tg_step, tcp, tcp_table),
	FIELD("parallel", h_parallel),
	DUR("timeout", struct tg_step, timeout_ns, 1),
	{ "env", h_env, offsetof(struct tg_step, env), 0, 0, NULL },
	{ "cwd", h_cwd, offsetof(struct tg_step, cwd), 0, 0, NULL },
	FIELD("rate", h_rate),
	U32("concurrency", struct tg_step, traffic.concurrency, 1, 10000),
	DUR("duration", struct tg_step, traffic.duration_ns, 1),
	FIELD("requests", h_requests),
};

static int step_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen);
static const struct table step_table = TABLE(step_fields, step_check);

static int step_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen)
{
	static const char *const exec_only[] = { "timeout", "env", "cwd", NULL };
	static const char *const traffic_keys[] = { "rate", "concurrency", "duration", "requests", NULL };
	static const char *const amount[] = { "duration", "requests", NULL };
	struct tg_step *st = obj;
	char sub[PATH_LEN];
	int rc = exactly_one(c, n, path, &step_table, seen, step_kinds);
	if (rc)
		return rc;
	/* the first misplaced key in the document */
	yaml_node_t *bad = NULL;
	const char *bad_key = NULL, *why = NULL;
	for (const char *const *k = exec_only; *k; k++) {
		yaml_node_t *t = seen[field_index(&step_table, *k)];
		if (t && st->kind != TG_STEP_EXEC && (!bad || t->start_mark.index < bad->start_mark.index)) {
			bad = t;
			bad_key = *k;
			why = "only exec steps take";
		}
	}
	for (const char *const *k = traffic_keys; *k; k++) {
		yaml_node_t *t = seen[field_index(&step_table, *k)];
		if (t && st->kind != TG_STEP_HTTP && st->kind != TG_STEP_TCP &&
		    (!bad || t->start_mark.index < bad->start_mark.index)) {
			bad = t;
			bad_key = *k;
			why = "only http and tcp steps take";
		}
	}
	if (bad) {
		join_key(sub, path, bad_key);
		return fail(c, bad, sub, "%s %s %s", why,
			    !strcmp(bad_key, "env") ? "an" : !strcmp(bad_key, "requests") ? "a count of" : "a",
			    bad_key);
	}
	if (st->kind == TG_STEP_HTTP || st->kind == TG_STEP_TCP)
		return exactly_one(c, n, path, &step_table, seen, amount);
	return 0;
}

static int add_ref(struct ctx *c, const char *name, const char *path, yaml_node_t *where, int line,
		   size_t order)
{
	if (c->nrefs == c->caprefs) {
		size_t cap = c->caprefs ? c->caprefs * 2 : 16;
		struct step_ref *r = realloc(c->refs, cap * sizeof *r);
		if (!r)
			return oom(c);
		c->refs = r;
		c->caprefs = cap;
	}
	char *p = strdup(path);
	if (!p)
		return oom(c);
	c->refs[c->nrefs] = (struct step_ref){ name, p, where, line, order };
	c->nrefs++;
	return 0;
}

void drop_refs(struct ctx *c)
{
	for (size_t i = 0; i < c->nrefs; i++)
		free(c->refs[i].path);
	free(c->refs);
	c->refs = NULL;
	c->nrefs = c->caprefs = 0;
}

/* One step at PATH: a mapping with exactly one kind. */
static int parse_step(struct ctx *c, yaml_node_t *item, const char *path, struct tg_step *st)
{
	yaml_node_t *seen[MAX_FIELDS];
	int rc;
	size_t nth = ++c->nsteps;

	st->line = (int)item->start_mark.line + 1;
	st->column = (int)item->start_mark.column + 1;
	st->timeout_ns = 5 * NS_PER_M;
	if (item->type != YAML_MAPPING_NODE)
		return fail_type(c, item, path, "a step (a mapping like {sleep: 2s})");
	if ((rc = walk_map(c, item, path, &step_table, st, seen)) ||
	    (rc = step_check(c, item, path, st, seen)))
		return rc;
	if (!st->env && !(st->env = calloc(1, sizeof(char *))))
		return oom(c);
	if (st->kind == TG_STEP_EXEC && !st->cwd && !(st->cwd = strdup(c->dir)))
		return oom(c);
	if (!st->name) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s #%zu", tg_step_kind_name(st->kind), nth);
		if (!(st->name = strdup(buf)))
			return oom(c);
	}
	yaml_node_t *where = item, *name = seen[field_index(&step_table, "name")];
	if (name) {
		/* point at the name's value */
		for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
		     p++)
			if (node(c, p->key) == name)
				where = node(c, p->value);
	}
	/* ordered by where the step starts: a parallel step before its children */
	return add_ref(c, st->name, path, where, st->line, nth);
}

static int parse_steps(struct ctx *c, yaml_node_t *v, const char *path, struct tg_step **out,
		       size_t *nout)
{
	char sub[PATH_LEN];
	int bad = 0;
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return 0;
	if (!(*out = calloc(n, sizeof **out)))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node(c, v->data.sequence.items.start[i]);
		*nout = i + 1;
		join_index(sub, path, i);
		if (!item)
			return fail(c, v, sub, "malformed YAML list");
		int rc = budget(c, item, sub);
		if (!rc)
			rc = parse_step(c, item, sub, &(*out)[i]);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct step_ref *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	return r ? r : (x->order > y->order) - (x->order < y->order);
}

int h_load(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_spec *s = obj;
	int rc;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of steps");
	if ((rc = parse_steps(c, v, path, &s->steps, &s->nsteps)))
		return rc;
	/* assertions select steps by name: names must be unique, children included; the
	 * error is at the later of the first clashing pair */
	if (c->nrefs < 2)
		return 0;
	qsort(c->refs, c->nrefs, sizeof *c->refs, ref_cmp);
	struct step_ref *first = NULL, *later = NULL;
	for (size_t i = 1; i < c->nrefs; i++) {
		if (strcmp(c->refs[i].name, c->refs[i - 1].name))
			continue;
		/* the earliest second occurrence in the document */
		if (!later || c->refs[i].order < later->order) {
			later = &c->refs[i];
			first = &c->refs[i - 1];
			while (first > c->refs && !strcmp((first - 1)->name, first->name))
				first--;
		}
	}
	if (!later)
		return 0;
	char q[QUOTE_LEN];
	quote(q, sizeof q, later->name, strlen(later->name));
	return fail(c, later->where, later->path, "duplicate step name %s (also the name of %s on line %d)",
		    q, first->path, first->line);
}

/* walk_map keeps the keys it saw in an array of MAX_FIELDS */
_Static_assert(N(step_fields) <= MAX_FIELDS &&
		       N(http_req_fields) <= MAX_FIELDS &&
		       N(tcp_req_fields) <= MAX_FIELDS,
	       "raise MAX_FIELDS");
