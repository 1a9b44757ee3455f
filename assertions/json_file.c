// SPDX-License-Identifier: MIT
/* results.json, read back: the file, its version check, its fields. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_file.h"

#define RESULTS_MAX_BYTES (512u << 20) /* results.json of a long run is big, not this big */

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
			if (cap > RESULTS_MAX_BYTES || !(nb = realloc(buf, cap))) {
				e = cap > RESULTS_MAX_BYTES ? EFBIG : ENOMEM;
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

int tg_json_read_file(const char *what, const char *path, cJSON **doc, char *err, size_t errlen)
{
	const char *end = NULL;
	char *text;
	int line, col;

	*doc = NULL;
	if (!(text = slurp(path))) {
		int rc = -errno;

		snprintf(err, errlen, "%s %s: cannot read: %s (give the results.json of an earlier run)",
			 what, path, strerror(-rc));
		return rc;
	}
	*doc = cJSON_ParseWithOpts(text, &end, 1);
	if (!*doc) {
		position(text, end ? end : text, &line, &col);
		snprintf(err, errlen, "%s %s:%d:%d: not JSON (expected a tokio-guard results.json)",
			 what, path, line, col);
		free(text);
		return -EINVAL;
	}
	free(text);
	return 0;
}

int tg_json_check_results(const cJSON *doc, char *why, size_t len)
{
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "version");
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks");

	if (!cJSON_IsObject(doc) || !version || !tasks) {
		snprintf(why, len, "not a tokio-guard results.json (no \"version\" and \"tasks\")");
		return -EINVAL;
	}
	if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
		if (cJSON_IsNumber(version))
			snprintf(why, len, "results.json version %g, this tokio-guard reads version 1",
				 version->valuedouble);
		else
			snprintf(why, len, "\"version\" is not a number");
		return -EINVAL;
	}
	if (!cJSON_IsArray(tasks)) {
		snprintf(why, len, "\"tasks\" is not an array");
		return -EINVAL;
	}
	return 0;
}

bool tg_json_u64(const cJSON *o, const char *key, uint64_t *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble) || n->valuedouble < 0 ||
	    n->valuedouble >= 18446744073709551616.0)
		return false;
	*v = (uint64_t)n->valuedouble;
	return true;
}

const char *tg_json_str(const cJSON *o, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

double tg_json_num(const cJSON *o, const char *key, double def)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(n) && isfinite(n->valuedouble) ? n->valuedouble : def;
}

bool tg_json_bool(const cJSON *o, const char *key, bool def)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsBool(b) ? cJSON_IsTrue(b) : def;
}
