/* --baseline: the per-task poll statistics of an earlier results.json, what
 * max_poll_regression compares against. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "checks.h"

#define BASELINE_MAX_BYTES (512u << 20) /* results.json of a long run is big, not this big */

/* The whole file as a NUL-terminated string, or NULL with errno set. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int e;

	if (!f)
		return NULL;
	do {
		if (len + 1 >= cap) {
			char *nb;
			cap = cap ? cap * 2 : 65536;
			if (cap > BASELINE_MAX_BYTES || !(nb = realloc(buf, cap))) {
				e = cap > BASELINE_MAX_BYTES ? EFBIG : ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got);
	if (ferror(f)) {
		e = EIO;
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
fail:
	free(buf);
	fclose(f);
	errno = e;
	return NULL;
}

/* Line and column (from 1) of POS in TEXT. */
static void position(const char *text, const char *pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < pos && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* A JSON number that is a whole count of polls or nanoseconds. */
static bool get_u64(const cJSON *o, const char *key, uint64_t *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || n->valuedouble < 0 ||
	    n->valuedouble >= 18446744073709551616.0)
		return false;
	*v = (uint64_t)n->valuedouble;
	return true;
}

static int read_task(const cJSON *o, size_t i, struct tg_baseline_task *t, char *what, size_t len)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
	static const char *const keys[] = { "polls", "max_poll_ns", "p99_poll_ns" };
	uint64_t *dst[] = { &t->polls, &t->max_ns, &t->p99_ns };

	if (!cJSON_IsObject(o)) {
		snprintf(what, len, "tasks[%zu] is not an object", i);
		return -EINVAL;
	}
	if (!cJSON_IsString(name)) {
		snprintf(what, len, "tasks[%zu].name is not a string", i);
		return -EINVAL;
	}
	for (size_t k = 0; k < 3; k++) {
		if (!get_u64(o, keys[k], dst[k])) {
			snprintf(what, len, "tasks[%zu].%s is not a non-negative number", i, keys[k]);
			return -EINVAL;
		}
	}
	if (!(t->name = strdup(name->valuestring)))
		return -ENOMEM;
	return 0;
}

/* Checks that DOC is a results.json and copies its tasks. */
static int read_doc(const cJSON *doc, struct tg_baseline *b, char *what, size_t len)
{
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks"), *t;
	size_t i = 0;
	int rc;

	if (!cJSON_IsObject(doc) || !version || !tasks) {
		snprintf(what, len, "not a tokio-guard results.json (no \"version\" and \"tasks\")");
		return -EINVAL;
	}
	if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
		if (cJSON_IsNumber(version))
			snprintf(what, len, "results.json version %g, this tokio-guard reads version 1",
				 version->valuedouble);
		else
			snprintf(what, len, "\"version\" is not a number");
		return -EINVAL;
	}
	if (!cJSON_IsArray(tasks)) {
		snprintf(what, len, "\"tasks\" is not an array");
		return -EINVAL;
	}
	b->ntasks = 0;
	if (cJSON_GetArraySize(tasks) > 0 &&
	    !(b->tasks = calloc((size_t)cJSON_GetArraySize(tasks), sizeof *b->tasks)))
		return -ENOMEM;
	cJSON_ArrayForEach(t, tasks) {
		if ((rc = read_task(t, i++, &b->tasks[b->ntasks], what, len)) < 0)
			return rc;
		b->ntasks++;
	}
	return 0;
}

int tg_baseline_load(const char *path, struct tg_baseline *b, char *err, size_t errlen)
{
	char what[256] = "";
	const char *end = NULL;
	cJSON *doc;
	char *text;
	int rc, line, col;

	memset(b, 0, sizeof *b);
	if (!(text = slurp(path))) {
		rc = -errno;
		snprintf(err, errlen, "baseline %s: cannot read: %s (give the results.json of an earlier run)",
			 path, strerror(-rc));
		return rc;
	}
	doc = cJSON_ParseWithOpts(text, &end, 1);
	if (!doc) {
		position(text, end ? end : text, &line, &col);
		snprintf(err, errlen, "baseline %s:%d:%d: not JSON (expected a tokio-guard results.json)",
			 path, line, col);
		free(text);
		return -EINVAL;
	}
	free(text);
	rc = read_doc(doc, b, what, sizeof what);
	cJSON_Delete(doc);
	if (rc == 0 && !(b->path = strdup(path)))
		rc = -ENOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "baseline %s: %s", path, rc == -ENOMEM ? "out of memory" : what);
		tg_baseline_free(b);
	}
	return rc;
}

void tg_baseline_free(struct tg_baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->ntasks; i++)
		free(b->tasks[i].name);
	free(b->tasks);
	free(b->path);
	memset(b, 0, sizeof *b);
}
