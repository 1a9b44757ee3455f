// SPDX-License-Identifier: MIT
/* tokio-guard diff BASE.json NEW.json: two runs side by side, per task, as a
 * Markdown table fit for a PR comment; exit 1 when a task got slower past --limit. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_cmd.h"
#include "session.h"
#include "usage.h"
#include "json_file.h"
#include "spec.h"

/* p99 changes smaller than this are noise, never a regression: a task with
 * few polls has its longest poll as p99, and on a shared CI runner that moves
 * by hundreds of microseconds between two runs of the same code (measured:
 * 188us -> 570us for axum's connection task); a 1ms limit is 10% of the
 * default blocking threshold. */
#define P99_NOISE_NS 1000000ull

const char tg_diff_help[] =
	"usage: tokio-guard diff BASE.json NEW.json [--markdown FILE] [--limit 25%]\n"
	"\n"
	"Compares two runs' results.json: per task the p50, p99 and max poll (own time),\n"
	"the blocking spans and their time, base -> new with the change in percent, and the\n"
	"culprits (function and file:line) that are new or gone. Prints a Markdown table\n"
	"(for a PR comment) on stdout, and to FILE with --markdown. The worst regression is\n"
	"first; tasks in only one run are listed as new or gone, not as regressions.\n"
	"A p99 change under 1ms is not a regression (measurement noise).\n"
	"\n"
	"exit codes: 0 no regression, 1 a task's p99 poll or blocking time grew by more\n"
	"than --limit (default 25%), 2 bad usage or a file that is not a results.json.\n";

struct task_row {
	const char *name;
	bool in_base, in_new;
	uint64_t polls[2], p50[2], p99[2], max[2], spans[2], block_ns[2];
	double worst;       /* the larger of p99's and blocking time's growth, in % */
	bool regressed;
};

struct culprit {
	char *text;         /* "demo::f (src/lib.rs:42)" */
	uint64_t count[2];
};

struct diff {
	struct task_row *rows;
	size_t nrows;
	struct culprit *culprits;
	size_t nculprits;
	double limit;       /* % */
	cJSON *docs[2];     /* the rows' names point into them */
};

static const char diff_usage[] =
	"usage: tokio-guard diff BASE.json NEW.json [--markdown FILE] [--limit 25%]\n";

#define usage_error(...) tg_usage_error(diff_usage, __VA_ARGS__)

static struct task_row *row_for(struct diff *d, const char *name)
{
	struct task_row *r;

	for (size_t i = 0; i < d->nrows; i++)
		if (!strcmp(d->rows[i].name, name))
			return &d->rows[i];
	r = realloc(d->rows, (d->nrows + 1) * sizeof(*d->rows));
	if (!r)
		return NULL;
	d->rows = r;
	r = &d->rows[d->nrows++];
	*r = (struct task_row){ .name = name };
	return r;
}

static int add_culprit(struct diff *d, const char *text, int side)
{
	struct culprit *c;

	for (size_t i = 0; i < d->nculprits; i++)
		if (!strcmp(d->culprits[i].text, text)) {
			d->culprits[i].count[side]++;
			return 0;
		}
	c = realloc(d->culprits, (d->nculprits + 1) * sizeof(*d->culprits));
	if (!c)
		return -ENOMEM;
	d->culprits = c;
	c = &d->culprits[d->nculprits++];
	*c = (struct culprit){ .text = strdup(text) };
	if (!c->text)
		return -ENOMEM;
	c->count[side] = 1;
	return 0;
}

static void culprit_text(const cJSON *c, char *buf, size_t len)
{
	const char *fn = tg_json_str(c, "function"), *file = tg_json_str(c, "file");
	int line = (int)tg_json_num(c, "line", 0);

	if (file && line > 0)
		snprintf(buf, len, "%s (%s:%d)", fn ? fn : "[unknown]", file, line);
	else if (file)
		snprintf(buf, len, "%s (%s)", fn ? fn : "[unknown]", file);
	else
		snprintf(buf, len, "%s", fn ? fn : "[unknown]");
}

/* One run's tasks and spans into D's rows, on SIDE 0 (base) or 1 (new). */
static int read_side(struct diff *d, const cJSON *doc, int side, char *why, size_t len)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks");
	const cJSON *spans = cJSON_GetObjectItemCaseSensitive(doc, "blocking_spans"), *o;
	size_t i = 0;

	cJSON_ArrayForEach(o, tasks) {
		const char *name = tg_json_str(o, "name");
		struct task_row *r;

		if (!name) {
			snprintf(why, len, "tasks[%zu].name is not a string", i);
			return -EINVAL;
		}
		if (!(r = row_for(d, name)))
			return -ENOMEM;
		*(side ? &r->in_new : &r->in_base) = true;
		if (!tg_json_u64(o, "polls", &r->polls[side]) || !tg_json_u64(o, "p99_poll_ns", &r->p99[side]) ||
		    !tg_json_u64(o, "max_poll_ns", &r->max[side])) {
			snprintf(why, len, "tasks[%zu] lacks polls, p99_poll_ns or max_poll_ns", i);
			return -EINVAL;
		}
		tg_json_u64(o, "p50_poll_ns", &r->p50[side]);
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(o, spans) {
		const char *task = tg_json_str(o, "task");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "culprit");
		struct task_row *r;
		uint64_t dur = 0;
		char text[1024];

		if (!task || !tg_json_u64(o, "duration_ns", &dur)) {
			snprintf(why, len, "blocking_spans[%zu] lacks task or duration_ns", i);
			return -EINVAL;
		}
		i++;
		if (tg_json_bool(o, "allowed", false)) /* accepted by the spec: not blocking it counts */
			continue;
		if (!(r = row_for(d, task)))
			return -ENOMEM;
		r->spans[side]++;
		r->block_ns[side] += dur;
		if (cJSON_IsObject(c)) {
			culprit_text(c, text, sizeof(text));
			if (add_culprit(d, text, side))
				return -ENOMEM;
		}
	}
	return 0;
}

/* Growth from A to B in %: +inf when something appeared from nothing. */
static double growth(uint64_t a, uint64_t b)
{
	if (a == b)
		return 0;
	if (!a)
		return INFINITY;
	return ((double)b - (double)a) * 100.0 / (double)a;
}

static void judge(struct diff *d)
{
	for (size_t i = 0; i < d->nrows; i++) {
		struct task_row *r = &d->rows[i];
		double p = growth(r->p99[0], r->p99[1]), b = growth(r->block_ns[0], r->block_ns[1]);
		bool p_reg = p > d->limit && r->p99[1] >= r->p99[0] + P99_NOISE_NS;

		if (!r->in_base || !r->in_new) { /* a task in one run only is listed, not judged */
			r->worst = -INFINITY;
			continue;
		}
		if (r->p99[1] < r->p99[0] + P99_NOISE_NS && p > 0)
			p = 0; /* noise: shown, not ranked */
		r->worst = p > b ? p : b;
		r->regressed = p_reg || b > d->limit;
	}
}

static int worst_first(const void *x, const void *y)
{
	const struct task_row *a = x, *b = y;

	if (a->regressed != b->regressed)
		return a->regressed ? -1 : 1;
	if (a->worst != b->worst)
		return a->worst > b->worst ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void cell_ns(FILE *f, const struct task_row *r, const uint64_t v[2])
{
	char a[32], b[32];

	tg_format_duration(v[0], a, sizeof(a));
	tg_format_duration(v[1], b, sizeof(b));
	if (!r->in_base)
		fprintf(f, " %s |", b);
	else if (!r->in_new)
		fprintf(f, " %s |", a);
	else if (v[0] == v[1])
		fprintf(f, " %s |", a);
	else if (!v[0])
		fprintf(f, " 0 → %s (new) |", b);
	else if (fabs(growth(v[0], v[1])) < 0.5)
		fprintf(f, " %s → %s (±0%%) |", a, b);
	else
		fprintf(f, " %s → %s (%+.0f%%) |", a, b, growth(v[0], v[1]));
}

static void cell_count(FILE *f, const struct task_row *r, const uint64_t v[2])
{
	if (!r->in_base || !r->in_new || v[0] == v[1])
		fprintf(f, " %llu |", (unsigned long long)(r->in_base ? v[0] : v[1]));
	else
		fprintf(f, " %llu → %llu |", (unsigned long long)v[0], (unsigned long long)v[1]);
}

/* Markdown's table cells: a | would end the cell. */
static void cell_name(FILE *f, const char *s)
{
	fputs(" `", f);
	for (; *s; s++)
		fputs(*s == '|' ? "\\|" : *s == '`' ? "'" : (char[2]){ *s, 0 }, f);
	fputs("` |", f);
}

static size_t count_regressed(const struct diff *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->nrows; i++)
		n += d->rows[i].regressed;
	return n;
}

static void culprit_list(FILE *f, const struct diff *d, int side, const char *title)
{
	bool any = false;

	for (size_t i = 0; i < d->nculprits; i++) {
		const struct culprit *c = &d->culprits[i];

		if (!c->count[side] || c->count[!side])
			continue;
		if (!any)
			fprintf(f, "\n**%s culprits**\n\n", title);
		any = true;
		fprintf(f, "- `%s`: %llu span%s\n", c->text, (unsigned long long)c->count[side],
			c->count[side] == 1 ? "" : "s");
	}
}

static void print_markdown(FILE *f, const struct diff *d, const char *base, const char *new_)
{
	size_t reg = count_regressed(d);

	fprintf(f, "### tokio-guard diff: `%s` → `%s`\n\n", base, new_);
	if (reg)
		fprintf(f, "**%zu task%s regressed** past %g%% (p99 poll or blocking time).\n\n", reg,
			reg == 1 ? "" : "s", d->limit);
	else
		fprintf(f, "No task regressed past %g%% (p99 poll or blocking time).\n\n", d->limit);
	fputs("| task | polls | p50 poll | p99 poll | max poll | blocking spans | blocking time | |\n"
	      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n", f);
	for (size_t i = 0; i < d->nrows; i++) {
		const struct task_row *r = &d->rows[i];

		fputs("|", f);
		cell_name(f, r->name);
		cell_count(f, r, r->polls);
		cell_ns(f, r, r->p50);
		cell_ns(f, r, r->p99);
		cell_ns(f, r, r->max);
		cell_count(f, r, r->spans);
		cell_ns(f, r, r->block_ns);
		fprintf(f, " %s |\n", r->regressed ? "**regressed**" : !r->in_base ? "new" :
				      !r->in_new ? "gone" : r->worst < 0 ? "better" : "");
	}
	culprit_list(f, d, 1, "New");
	culprit_list(f, d, 0, "Gone");
}

static int read_run(struct diff *d, const char *path, int side)
{
	char err[1024], why[512];
	cJSON *doc;
	int rc = tg_json_read_file("results", path, &doc, err, sizeof(err));

	if (rc) {
		fprintf(stderr, "tokio-guard: %s\n", err);
		return rc;
	}
	rc = tg_json_check_results(doc, why, sizeof(why));
	if (!rc)
		rc = read_side(d, doc, side, why, sizeof(why));
	if (rc)
		fprintf(stderr, "tokio-guard: results %s: %s\n", path, rc == -ENOMEM ? "out of memory" : why);
	/* names point into the documents: D keeps them until the end */
	if (rc)
		cJSON_Delete(doc);
	else
		d->docs[side] = doc;
	return rc;
}

static void diff_free(struct diff *d)
{
	for (size_t i = 0; i < d->nculprits; i++)
		free(d->culprits[i].text);
	free(d->culprits);
	free(d->rows);
	cJSON_Delete(d->docs[0]);
	cJSON_Delete(d->docs[1]);
}

int tg_diff_main(int argc, char **argv)
{
	enum { OPT_MD = 256, OPT_LIMIT };
	static const struct option opts[] = {
		{ "markdown", required_argument, NULL, OPT_MD },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct diff d = { .limit = 25 };
	const char *md = NULL;
	char why[256];
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_MD: md = optarg; break;
		case OPT_LIMIT:
			if (tg_parse_percent(optarg, &d.limit, why, sizeof(why)))
				return usage_error("diff: --limit: %s", why);
			break;
		case 'h': fputs(tg_diff_help, stdout); return TG_EXIT_OK;
		case ':': return usage_error("diff: %s needs a value", argv[optind - 1]);
		default: return usage_error("diff: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_error("diff takes two results.json files, BASE and NEW (got %d)", argc - optind);
	if (read_run(&d, argv[optind], 0) || read_run(&d, argv[optind + 1], 1)) {
		diff_free(&d);
		return TG_EXIT_USAGE;
	}
	judge(&d);
	qsort(d.rows, d.nrows, sizeof(*d.rows), worst_first);
	print_markdown(stdout, &d, argv[optind], argv[optind + 1]);
	rc = count_regressed(&d) ? TG_EXIT_ASSERTION : TG_EXIT_OK;
	if (md) {
		FILE *f = fopen(md, "w");

		if (f)
			print_markdown(f, &d, argv[optind], argv[optind + 1]);
		if (!f || fclose(f)) {
			fprintf(stderr, "tokio-guard: cannot write %s: %s\n", md, strerror(errno));
			rc = TG_EXIT_ENV;
		}
	}
	diff_free(&d);
	return rc;
}
