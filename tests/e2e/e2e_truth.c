/* Ground truth for the end-to-end tests (see e2e_truth.h). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e2e_truth.h"
#include "test_files.h"

size_t e2e_sections(const char *log, const char *kind, struct e2e_section *out, size_t max)
{
	char needle[48];
	size_t n = 0;

	snprintf(needle, sizeof(needle), "kind=%s ", kind);
	for (const char *p = log; p && (p = strstr(p, needle)) && n < max; p++) {
		const char *w;

		if (p != log && p[-1] != '\n')
			continue;
		w = strstr(p, "wall_us=");
		assert_non_null(w);
		out[n].ms = out[n].pid = 0;
		sscanf(p + strlen(needle), "ms=%ld", &out[n].ms);
		assert_true(sscanf(w, "wall_us=%ld cpu_us=%ld tid=%ld pid=%ld", &out[n].wall_us,
				   &out[n].cpu_us, &out[n].tid, &out[n].pid) >= 3);
		n++;
	}
	return n;
}

size_t e2e_kind_of_task(const char *task, const char *crate, const char *const *kinds, size_t n)
{
	char name[128];

	for (size_t k = 0; task && k < n; k++) {
		snprintf(name, sizeof(name), "%s::%s_task", crate, kinds[k]);
		if (strcmp(task, name) == 0)
			return k;
	}
	return n;
}

int e2e_marker_line(const char *path, const char *kind)
{
	char *src = tg_test_read(path, NULL), needle[48], *hit;
	int line = 1;

	assert_non_null(src);
	snprintf(needle, sizeof(needle), "// guard:%s\n", kind);
	hit = strstr(src, needle);
	assert_non_null(hit);
	for (char *p = src; p < hit; p++)
		line += *p == '\n';
	free(src);
	return line;
}

double e2e_tolerance_us(double truth_us)
{
	return truth_us * 0.05 > 500 ? truth_us * 0.05 : 500;
}

bool e2e_close_us(double measured_us, double truth_us)
{
	double tol = e2e_tolerance_us(truth_us);

	return measured_us >= truth_us - tol && measured_us <= truth_us + tol;
}

cJSON *e2e_load_json(const char *path)
{
	char *text = tg_test_read(path, NULL);
	cJSON *j = text ? cJSON_Parse(text) : NULL;

	free(text);
	return j;
}

double e2e_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

const char *e2e_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *e2e_closest_span(const cJSON **spans, bool *used, size_t n, long wall_us)
{
	double best = 1e18;
	size_t bi = n;

	for (size_t i = 0; i < n; i++) {
		double d = e2e_num(spans[i], "duration_ns") / 1000.0 - (double)wall_us;

		if (!used[i] && (d < 0 ? -d : d) < best) {
			best = d < 0 ? -d : d;
			bi = i;
		}
	}
	if (bi == n)
		return NULL;
	used[bi] = true;
	return spans[bi];
}
