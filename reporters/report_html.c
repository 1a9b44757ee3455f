/* report.html: the page template (built in, reporters/report_html/) with the
 * run's results.json and a capped copy of its trace.json in one JSON script tag. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "report_file.h"
#include "report_html.h"

/* generated from reporters/report_html/ by embed.cmake */
extern const unsigned char tg_html_template[], tg_html_style[], tg_html_app[];
extern const size_t tg_html_template_len, tg_html_style_len, tg_html_app_len;

#define INPUT_MAX_BYTES (1024u << 20)

struct slice {
	const char *text; /* one event object in the trace's text */
	size_t len;
	double rank;      /* higher is kept first: load steps and spans, then longer polls */
	size_t order;     /* its place in the trace */
	int keep;
};

struct picked {
	struct slice *v;
	size_t n, cap, xs, kept_xs;
	const char *meta; /* the trace's "metadata" object */
	size_t meta_len;
	char *folded;     /* cpu.folded beside results.json (probe.cpu_profile), or NULL */
};

#define FOLDED_MAX_BYTES (8u << 20) /* a page that still opens: bigger ones stay in cpu.folded */

/* ---------------------------------------------------------------- input */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, got;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (*len + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 1u << 20;
			if (cap > INPUT_MAX_BYTES || !(nb = realloc(buf, cap))) {
				errno = cap > INPUT_MAX_BYTES ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + *len, 1, cap - *len - 1, f);
		*len += got;
	} while (got);
	if (ferror(f)) {
		errno = EIO;
		goto fail;
	}
	fclose(f);
	buf[*len] = 0;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

/* ---------------------------------------------------- a minimal JSON scan */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ','))
		p++;
	return p;
}

/* The end of the JSON value at P (string, object, array or scalar), or NULL. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	do {
		if (p >= end)
			return NULL;
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		} else if (depth == 0) { /* a scalar */
			while (p < end && !strchr(",}] \n\r\t", *p))
				p++;
			return p;
		}
		p++;
	} while (depth > 0);
	return p;
}

static int push(struct picked *pk, const char *text, size_t len, double rank)
{
	if (pk->n == pk->cap) {
		size_t cap = pk->cap ? pk->cap * 2 : 4096;
		struct slice *nv = realloc(pk->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		pk->v = nv;
		pk->cap = cap;
	}
	pk->v[pk->n] = (struct slice){ .text = text, .len = len, .rank = rank, .order = pk->n, .keep = 1 };
	pk->n++;
	return 0;
}

/* How much an event is worth keeping: -1 for every event but X slices (always
 * kept); load steps and blocking spans above any poll. */
static double rank_of(const char *text, size_t len)
{
	cJSON *e = cJSON_ParseWithLength(text, len);
	const char *ph = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "ph"));
	const char *cat = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "cat"));
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(e, "dur");
	double r = -1;

	if (ph && strcmp(ph, "X") == 0) {
		r = cJSON_IsNumber(dur) ? dur->valuedouble : 0;
		if (cat && strcmp(cat, "poll") != 0)
			r += 1e15;
	}
	cJSON_Delete(e);
	return r;
}

static int events(struct picked *pk, const char *p, const char *end)
{
	p = skip_ws(p, end);
	if (p >= end || *p != '[')
		return -EINVAL;
	for (p = skip_ws(p + 1, end); p < end && *p != ']'; p = skip_ws(p, end)) {
		const char *q = skip_value(p, end);
		double rank;

		if (!q)
			return -EINVAL;
		rank = rank_of(p, (size_t)(q - p));
		if (push(pk, p, (size_t)(q - p), rank))
			return -ENOMEM;
		pk->xs += rank >= 0;
		p = q;
	}
	return 0;
}

/* The trace's events and metadata, found in its text: the file can be tens of
 * MB, so it is scanned, never parsed whole. */
static int scan_trace(struct picked *pk, const char *t, size_t len)
{
	const char *p = t, *end = t + len;

	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -EINVAL;
	for (p = skip_ws(p + 1, end); p < end && *p == '"'; p = skip_ws(p, end)) {
		const char *key = p + 1, *q = skip_value(p, end);
		int rc;

		if (!q)
			return -EINVAL;
		p = skip_ws(q, end);
		if (p >= end || *p != ':')
			return -EINVAL;
		p = skip_ws(p + 1, end);
		q = skip_value(p, end);
		if (!q)
			return -EINVAL;
		if (strncmp(key, "traceEvents\"", 12) == 0 && (rc = events(pk, p, end)))
			return rc;
		if (strncmp(key, "metadata\"", 9) == 0) {
			pk->meta = p;
			pk->meta_len = (size_t)(q - p);
		}
		p = q;
	}
	return 0;
}

static int by_rank(const void *a, const void *b)
{
	const struct slice *x = *(const struct slice *const *)a, *y = *(const struct slice *const *)b;

	return x->rank < y->rank ? 1 : x->rank > y->rank ? -1 : 0;
}

/* Keeps the TG_HTML_MAX_SLICES highest-ranked X slices, every other event. */
static int cap_slices(struct picked *pk)
{
	struct slice **xs;
	size_t n = 0;

	pk->kept_xs = pk->xs;
	if (pk->xs <= TG_HTML_MAX_SLICES)
		return 0;
	xs = malloc(pk->xs * sizeof(*xs));
	if (!xs)
		return -ENOMEM;
	for (size_t i = 0; i < pk->n; i++)
		if (pk->v[i].rank >= 0)
			xs[n++] = &pk->v[i];
	qsort(xs, n, sizeof(*xs), by_rank);
	for (size_t i = TG_HTML_MAX_SLICES; i < n; i++)
		xs[i]->keep = 0;
	pk->kept_xs = TG_HTML_MAX_SLICES;
	free(xs);
	return 0;
}

/* --------------------------------------------------------------- output */

/* JSON text, with every '<' escaped: a name holding "</script>" or "<!--"
 * stays inside the data tag ('<' only ever occurs inside JSON strings). */
static void put_json(FILE *f, const char *s, size_t len)
{
	const char *run = s;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '<') {
			fwrite(run, 1, (size_t)(s + i - run), f);
			fputs("\\u003c", f);
			run = s + i + 1;
		}
	fwrite(run, 1, (size_t)(s + len - run), f);
}

static void put_data(FILE *f, const char *results, size_t rlen, const struct picked *pk, int have_trace)
{
	fputs("{\"results\": ", f);
	put_json(f, results, rlen);
	fputs(",\n\"trace\": ", f);
	if (!have_trace) {
		fputs("null", f);
	} else {
		fputs("{\"traceEvents\": [", f);
		for (size_t i = 0, first = 1; i < pk->n; i++) {
			if (!pk->v[i].keep)
				continue;
			fputs(first ? "\n" : ",\n", f);
			put_json(f, pk->v[i].text, pk->v[i].len);
			first = 0;
		}
		fputs("],\n\"metadata\": ", f);
		if (pk->meta)
			put_json(f, pk->meta, pk->meta_len);
		else
			fputs("{}", f);
		fputs("}", f);
	}
	if (pk->folded) { /* one JSON string: app.js splits its lines */
		cJSON *str = cJSON_CreateString(pk->folded);
		char *text = str ? cJSON_PrintUnformatted(str) : NULL;

		if (text) {
			fputs(",\n\"cpu_folded\": ", f);
			put_json(f, text, strlen(text));
		}
		free(text);
		cJSON_Delete(str);
	}
	fprintf(f, ",\n\"embedded\": {\"max_slices\": %u, \"trace_slices\": %zu, \"slices\": %zu}}",
		TG_HTML_MAX_SLICES, pk->xs, pk->kept_xs);
}

/* The template with @STYLE@, @APP@ and @DATA@ filled in. */
static void put_page(FILE *f, const char *results, size_t rlen, const struct picked *pk, int have_trace)
{
	const char *t = (const char *)tg_html_template, *end = t + tg_html_template_len, *at;

	while ((at = memchr(t, '@', (size_t)(end - t)))) {
		fwrite(t, 1, (size_t)(at - t), f);
		if (strncmp(at, "@STYLE@", 7) == 0) {
			fwrite(tg_html_style, 1, tg_html_style_len, f);
			t = at + 7;
		} else if (strncmp(at, "@APP@", 5) == 0) {
			fwrite(tg_html_app, 1, tg_html_app_len, f);
			t = at + 5;
		} else if (strncmp(at, "@DATA@", 6) == 0) {
			put_data(f, results, rlen, pk, have_trace);
			t = at + 6;
		} else {
			fputc('@', f);
			t = at + 1;
		}
	}
	fwrite(t, 1, (size_t)(end - t), f);
}

static int write_page(const char *path, const char *results, size_t rlen, const struct picked *pk,
		      int have_trace, char *err, size_t errlen)
{
	char tmp[4096];
	int rc = 0, fd = tg_report_open(path, tmp, sizeof(tmp));
	FILE *f;

	if (fd < 0) {
		snprintf(err, errlen, "report.html: cannot create %s: %s (check the folder exists and is writable)",
			 path, strerror(-fd));
		return fd;
	}
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
	} else {
		put_page(f, results, rlen, pk, have_trace);
		if (ferror(f))
			rc = -EIO;
		if (fclose(f) != 0 && rc == 0)
			rc = -errno;
	}
	rc = tg_report_commit(tmp, path, rc);
	if (rc < 0)
		snprintf(err, errlen, "report.html: cannot write %s: %s", path, strerror(-rc));
	return rc;
}

static int write_text(const char *path, const char *results, size_t results_len, const char *trace,
		      size_t trace_len, char *folded, char *err, size_t errlen)
{
	struct picked pk = { .folded = folded };
	cJSON *check = cJSON_ParseWithLength(results, results_len);
	int rc;

	if (!cJSON_IsObject(check)) {
		cJSON_Delete(check);
		snprintf(err, errlen, "report.html: the results are not a JSON object: nothing to draw");
		return -EINVAL;
	}
	cJSON_Delete(check);
	if (trace && (rc = scan_trace(&pk, trace, trace_len))) {
		free(pk.v);
		snprintf(err, errlen, "report.html: the trace is %s",
			 rc == -ENOMEM ? "too big for memory" : "not Trace Event Format JSON");
		return rc;
	}
	rc = cap_slices(&pk);
	if (!rc)
		rc = write_page(path, results, results_len, &pk, trace != NULL, err, errlen);
	else
		snprintf(err, errlen, "report.html: out of memory");
	free(pk.v);
	return rc;
}

int tg_report_html_write_text(const char *path, const char *results, size_t results_len,
			      const char *trace, size_t trace_len, char *err, size_t errlen)
{
	return write_text(path, results, results_len, trace, trace_len, NULL, err, errlen);
}

/* cpu.folded in RESULTS_JSON's folder when the results name it, else NULL. */
static char *read_folded(const char *results_json, const char *results, size_t rlen)
{
	cJSON *r = cJSON_ParseWithLength(results, rlen);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(r, "cpu_profile"), "folded");
	const char *slash = strrchr(results_json, '/');
	char path[4096 + 256], *text = NULL;
	size_t len = 0;

	if (cJSON_IsString(name) && !strchr(name->valuestring, '/')) {
		snprintf(path, sizeof(path), "%.*s%s", slash ? (int)(slash - results_json + 1) : 0, results_json,
			 name->valuestring);
		text = slurp(path, &len);
		if (text && len > FOLDED_MAX_BYTES) {
			free(text);
			text = NULL;
		}
	}
	cJSON_Delete(r);
	return text;
}

int tg_report_html_write(const char *path, const char *results_json, const char *trace_json,
			 char *err, size_t errlen)
{
	size_t rlen = 0, tlen = 0;
	char *results = slurp(results_json, &rlen), *trace = NULL, *folded;
	int rc;

	if (!results) {
		rc = -errno;
		snprintf(err, errlen, "report.html: cannot read %s: %s", results_json, strerror(errno));
		return rc;
	}
	if (trace_json && trace_json[0] && !(trace = slurp(trace_json, &tlen))) {
		rc = -errno;
		snprintf(err, errlen, "report.html: cannot read %s: %s", trace_json, strerror(errno));
		free(results);
		return rc;
	}
	folded = read_folded(results_json, results, rlen);
	rc = write_text(path, results, rlen, trace, tlen, folded, err, errlen);
	free(results);
	free(trace);
	free(folded);
	return rc;
}
