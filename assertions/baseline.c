/* --baseline: the per-task poll statistics of an earlier results.json, what
 * max_poll_regression compares against. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "json_file.h"

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
		if (!tg_json_u64(o, keys[k], dst[k])) {
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
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks"), *t;
	size_t i = 0;
	int rc;

	if ((rc = tg_json_check_results(doc, what, len)) < 0)
		return rc;
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
	cJSON *doc;
	int rc;

	memset(b, 0, sizeof *b);
	if ((rc = tg_json_read_file("baseline", path, &doc, err, errlen)) < 0)
		return rc;
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
