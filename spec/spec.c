/* Spec file (YAML) parsing and validation. Contract: /work/shared/spec.md.
 *
 * The file is read whole, checked by a first pass over libyaml's events (syntax,
 * one document, nesting depth), then loaded into a libyaml document. Every mapping of the spec is
 * described by a `struct table`: its known keys, each with a handler and, for the
 * generic handlers (string, duration, integer, sub-mapping), where the value goes and
 * its limits. walk_map() checks a mapping's keys against its table (wrong type,
 * unknown, duplicate) and calls the handlers in document order, so the first error
 * reported is the first one in the file; the table's `check` hook then applies
 * cross-field rules (required keys,
 * exactly one of) using the key nodes walk_map saw.
 *
 * Adding a key is one line in its table, plus a handler when none of the generic
 * ones fits.
 *
 * The parser's files (their shared insides: spec_parse.h): walk.c (the context, errors,
 * the walker, the generic handlers), units.c, words.c, one section_*.c per section's
 * tables; this one: the root table, reading the file, and the spec's lifetime.
 *
 * Every error is one line: "FILE:LINE:COLUMN: field.path: what is wrong", LINE and
 * COLUMN 1-based from the libyaml mark of the offending node. Values echoed in messages
 * are quoted with control characters escaped and long ones truncated.
 */
#define _GNU_SOURCE
#include "source_root.h"
#include "spec_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* -------------------------------------------------------------------- root */

static const struct field root_fields[] = {
	FIELD("version", h_version),
	STR("name", struct tg_spec, name),
	SECTION("target", target_table),
	SECTION("probe", probe_table),
	FIELD("load", h_load),
	FIELD("allow", h_allow),
	FIELD("assertions", h_assertions),
	SECTION("report", report_table),
};

static int root_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen);
static const struct table root_table = TABLE(root_fields, root_check);

static int root_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen)
{
	/* attach ignores the target section: it may be absent */
	int rc = c->target_optional ? 0 : require(c, n, path, &root_table, seen, "target");
	if (rc || c->nerrors) /* step names may be missing after an error */
		return rc ? rc : -EINVAL;
	return check_load_selectors(c, obj, n);
}

_Static_assert(N(root_fields) <= MAX_FIELDS, "raise MAX_FIELDS");

static int set_default(struct ctx *c, char **dst, const char *value)
{
	if (*dst)
		return 0;
	return (*dst = strdup(value)) ? 0 : oom(c);
}

/* What a spec says when it does not say it (shared/spec.md): also the ad hoc spec's. */
void spec_defaults(struct tg_spec *s)
{
	s->version = 1;
	s->target.ready.kind = TG_READY_NONE;
	s->target.ready.timeout_ns = 30 * NS_PER_S;
	s->target.stop.signal = SIGTERM;
	s->target.stop.grace_ns = 5 * NS_PER_S;
	s->probe.blocking_threshold_ns = 10 * NS_PER_MS;
	s->probe.sample_rate = 999;
	s->probe.stack_depth = 64;
	s->report.trace_max_polls = 128u << 10; /* record/caps.h's TG_KEEP_SLICES */
	s->probe.ring_buffer_bytes = 16u << 20;
	s->probe.stack_copy_bytes = 16u << 10;
	s->probe.scheduling_delay = true;
	s->report.trace_min_poll_ns = 100 * NS_PER_US;
}

static int build(struct ctx *c, struct tg_spec *s)
{
	spec_defaults(s);
	if (!(s->path = strdup(c->file)) || !(s->dir = spec_folder(c->file)) ||
	    !(s->root = tg_source_root(s->dir)))
		return oom(c);
	c->dir = s->dir;

	yaml_node_t *root = yaml_document_get_root_node(c->doc), *seen[MAX_FIELDS];
	if (!root || is_null(root))
		return fail_at(c, root ? root->start_mark.line : 0, root ? root->start_mark.column : 0,
			       "", "the spec is empty (it needs at least a target with a command)");
	int rc = walk_map(c, root, "", &root_table, s, seen);
	if ((!rc || go_on(c, rc)) && root->type == YAML_MAPPING_NODE) {
		int rc2 = root_check(c, root, "", s, seen);
		rc = rc ? rc : rc2;
	}
	if (rc)
		return rc;

	char *name = default_name(c->file);
	if (!name)
		return oom(c);
	if (!s->name)
		s->name = name;
	else
		free(name);
	if (!s->target.cwd && !(s->target.cwd = strdup(s->dir)))
		return oom(c);
	if (!s->target.env && !(s->target.env = calloc(1, sizeof(char *))))
		return oom(c);
	if ((rc = set_default(c, &s->report.dir, "tokio-guard-out")) ||
	    (rc = set_default(c, &s->report.junit, "junit.xml")) ||
	    (rc = set_default(c, &s->report.trace, "trace.json")) ||
	    (rc = set_default(c, &s->report.results, "results.json")) ||
	    (rc = set_default(c, &s->report.html, "report.html")))
		return rc;
	return 0;
}

/* ---------------------------------------------------------------- loading */

static int read_all(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	*out = NULL;
	*outlen = 0;
	/* O_NONBLOCK: opening a FIFO nobody writes to must not hang */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int e;
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		one_line(err);
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
		one_line(err);
		return -EISDIR;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);

	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (;;) {
		if (n > MAX_SPEC_BYTES) {
			close(fd);
			free(buf);
			snprintf(err, errlen, "%s: too large for a spec (more than %u MiB)", path,
				 MAX_SPEC_BYTES >> 20);
			one_line(err);
			return -EINVAL;
		}
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				close(fd);
				free(buf);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			close(fd);
			free(buf);
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
			one_line(err);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = n;
	return 0;
}

/* True when line LINE0 of BUF is indented with a tab before its first other
 * character; *COL0 gets that tab's column. libyaml's messages for it ("found
 * character that cannot start any token") never say "tab". */
static bool tab_in_indent(const char *buf, size_t len, size_t line0, size_t *col0)
{
	size_t i = 0;
	for (size_t l = 0; l < line0 && i < len; i++)
		if (buf[i] == '\n')
			l++;
	for (size_t col = 0; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++, col++) {
		if (buf[i] == '\t') {
			*col0 = col;
			return true;
		}
	}
	return false;
}

static int yaml_error(struct ctx *c, yaml_parser_t *p, const char *buf, size_t len)
{
	size_t line = 0, col = 0;
	if (p->error == YAML_MEMORY_ERROR)
		return oom(c);
	if (p->error == YAML_READER_ERROR) {
		/* no mark: count up to the offending byte */
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 0;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				col++;
			}
		}
		if (p->problem_value >= 0)
			return fail_at(c, line, col, "", "invalid YAML: %s (byte 0x%02x)",
				       p->problem ? p->problem : "unreadable input",
				       (unsigned)p->problem_value & 0xff);
		return fail_at(c, line, col, "", "invalid YAML: %s",
			       p->problem ? p->problem : "unreadable input");
	}
	line = p->problem_mark.line;
	col = p->problem_mark.column;
	if (tab_in_indent(buf, len, line, &col))
		return fail_at(c, line, col, "", "tab character in indentation: YAML indents with spaces");
	if (p->context)
		return fail_at(c, line, col, "", "invalid YAML: %s (%s at line %zu, column %zu)",
			       p->problem ? p->problem : "syntax error", p->context,
			       p->context_mark.line + 1, p->context_mark.column + 1);
	return fail_at(c, line, col, "", "invalid YAML: %s", p->problem ? p->problem : "syntax error");
}

/* A first pass over the events, before building the document: syntax errors, one
 * document only, and a nesting limit (libyaml's scanner is superlinear in the depth of
 * flow collections; stopping at MAX_DEPTH bounds how far it runs ahead). */
static int prescan(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, rc = 0;

	if (!yaml_parser_initialize(&p))
		return oom(c);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_error(c, &p, buf, len);
			break;
		}
		yaml_event_type_t type = ev.type;
		switch (type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = fail_at(c, ev.start_mark.line, ev.start_mark.column, "",
					     "a spec is one YAML document, but a second one starts here");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MAX_DEPTH)
				rc = fail_at(c, ev.start_mark.line, ev.start_mark.column, "",
					     "nested more than %d levels deep", MAX_DEPTH);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

static int load(const char *path, struct tg_spec *spec, char *err, size_t errlen,
		struct tg_spec_errors *all, bool target_optional)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (!spec)
		return -EINVAL;
	memset(spec, 0, sizeof *spec);
	if (!path || !*path) {
		snprintf(err, errlen, "no spec file given");
		return -EINVAL;
	}

	char *buf;
	size_t len;
	int rc = read_all(path, &buf, &len, err, errlen);
	if (rc)
		return rc;

	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .doc = &doc, .file = path, .err = err, .errlen = errlen, .all = all,
			 .target_optional = target_optional };
	if ((rc = prescan(&c, buf, len))) {
		free(buf);
		return rc;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(buf);
		return oom(&c);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_error(&c, &parser, buf, len);
		goto out_parser;
	}
	rc = build(&c, spec);
	if (!rc && c.nerrors) /* a handler that went on after an error: still an error */
		rc = -EINVAL;
	drop_refs(&c);
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	free(buf);
	if (rc)
		tg_spec_free(spec);
	return rc;
}

int tg_spec_load(const char *path, struct tg_spec *spec, char *err, size_t errlen)
{
	return load(path, spec, err, errlen, NULL, false);
}

static int load_all(const char *path, struct tg_spec *spec, struct tg_spec_errors *errs,
		    bool target_optional)
{
	char first[sizeof errs->msg[0]];
	errs->n = 0;
	errs->more = false;
	int rc = load(path, spec, first, sizeof first, errs, target_optional);
	if (rc && !errs->n) { /* the file itself, or memory: no position */
		snprintf(errs->msg[0], sizeof errs->msg[0], "%s", first);
		errs->n = 1;
	}
	return rc;
}

int tg_spec_load_all(const char *path, struct tg_spec *spec, struct tg_spec_errors *errs)
{
	return load_all(path, spec, errs, false);
}

int tg_spec_load_all_attach(const char *path, struct tg_spec *spec, struct tg_spec_errors *errs)
{
	return load_all(path, spec, errs, true);
}

void tg_spec_errors_print(FILE *f, const char *path, const struct tg_spec_errors *errs, size_t from)
{
	for (size_t i = from; i < errs->n; i++)
		fprintf(f, "tokio-guard: %s\n", errs->msg[i]);
	if (errs->more)
		fprintf(f, "tokio-guard: %s: more than %zu errors; the first %zu are above\n", path,
			errs->n, errs->n);
	else
		fprintf(f, "tokio-guard: %s: %zu error%s\n", path, errs->n, errs->n == 1 ? "" : "s");
}

static void free_steps(struct tg_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct tg_step *st = &steps[i];
		free(st->name);
		tg_strv_free(st->argv);
		tg_strv_free(st->env);
		free(st->cwd);
		free(st->http.url);
		free(st->http.method);
		tg_strv_free(st->http.headers);
		free(st->http.body);
		free(st->tcp.host);
		free(st->tcp.port);
		free(st->tcp.send);
		free(st->tcp.expect);
		free_steps(st->children, st->nchildren);
	}
	free(steps);
}

void tg_spec_free(struct tg_spec *spec)
{
	if (!spec)
		return;
	free(spec->path);
	free(spec->dir);
	free(spec->root);
	free(spec->name);
	tg_strv_free(spec->target.argv);
	free(spec->target.cwd);
	tg_strv_free(spec->target.env);
	free(spec->target.ready.tcp_host);
	free(spec->target.ready.tcp_port);
	free(spec->target.user);
	free(spec->target.ready.http_url);
	free(spec->target.ready.log_regex);
	free_steps(spec->steps, spec->nsteps);
	for (size_t i = 0; i < spec->nallow; i++) {
		free(spec->allow[i].function);
		free(spec->allow[i].reason);
	}
	free(spec->allow);
	for (size_t i = 0; i < spec->nassertions; i++) {
		struct tg_assertion *a = &spec->assertions[i];
		free(a->pattern);
		for (size_t j = 0; j < a->nlimits; j++)
			free(a->limits[j].text);
		free(a->limits);
	}
	free(spec->assertions);
	free(spec->report.dir);
	free(spec->report.junit);
	free(spec->report.trace);
	free(spec->report.results);
	free(spec->report.html);
	memset(spec, 0, sizeof *spec);
}
