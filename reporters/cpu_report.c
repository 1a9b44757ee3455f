/* Function locations are shown relative to the source root, as every other
 * report shows frames. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_profile.h"
#include "cpu_report.h"
#include "report_file.h"
#include "results_json.h"

static const struct tg_cpu_profile *profile(const struct tg_results *r)
{
	return r ? r->cpu_profile : NULL;
}

int tg_cpu_folded_write(const char *path, const struct tg_results *r, char *err, size_t errlen)
{
	char tmp[4096 + 32];
	int fd = tg_report_open(path, tmp, sizeof(tmp)), rc;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		rc = fd < 0 ? fd : -errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = tg_cpu_profile_write_folded(profile(r), f);
	if (fclose(f) && !rc)
		rc = -errno;
	rc = tg_report_commit(tmp, path, rc);
	if (rc)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

static const char *location(const struct tg_results *r, const struct tg_cpu_fn *f, char *buf, size_t len)
{
	return f->file ? tg_display_path(f->file, tg_results_root(r), buf, len) : NULL;
}

struct cJSON *tg_cpu_profile_json(const struct tg_results *r)
{
	const struct tg_cpu_profile *p = profile(r);
	struct tg_cpu_fn *v;
	cJSON *o, *a;
	size_t n;
	char path[4096];

	if (!p || !(v = calloc(TG_CPU_TOP_FUNCTIONS * 2, sizeof(*v))))
		return NULL;
	n = tg_cpu_profile_top(p, v, TG_CPU_TOP_FUNCTIONS * 2, TG_CPU_MIN_TOTAL_PCT);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "hz", tg_cpu_profile_hz(p));
	cJSON_AddNumberToObject(o, "samples", (double)tg_cpu_profile_samples(p));
	cJSON_AddNumberToObject(o, "lost", (double)tg_cpu_profile_lost(p));
	a = cJSON_AddArrayToObject(o, "functions");
	for (size_t i = 0; i < n; i++) {
		cJSON *f = cJSON_CreateObject();
		const char *file = location(r, &v[i], path, sizeof(path));

		cJSON_AddStringToObject(f, "function", v[i].function);
		if (file)
			cJSON_AddStringToObject(f, "file", file);
		else
			cJSON_AddNullToObject(f, "file");
		cJSON_AddNumberToObject(f, "line", v[i].line);
		cJSON_AddNumberToObject(f, "self_pct", (double)(long)(v[i].self_pct * 100 + 0.5) / 100);
		cJSON_AddNumberToObject(f, "total_pct", (double)(long)(v[i].total_pct * 100 + 0.5) / 100);
		cJSON_AddItemToArray(a, f);
	}
	cJSON_AddStringToObject(o, "folded", TG_CPU_FOLDED_NAME);
	free(v);
	return o;
}

const char *tg_cpu_top_text(const struct tg_results *r, size_t n, char *buf, size_t len)
{
	const struct tg_cpu_profile *p = profile(r);
	struct tg_cpu_fn v[16];
	char path[4096];

	buf[0] = 0;
	if (!p)
		return buf;
	n = tg_cpu_profile_top(p, v, n < 16 ? n : 16, 101); /* self only */
	for (size_t i = 0; i < n; i++) {
		const char *file = location(r, &v[i], path, sizeof(path));
		size_t at = strlen(buf);

		if (file)
			snprintf(buf + at, len - at, "%s%s %.1f%% (%s:%d)", i ? ", " : "", v[i].function,
				 v[i].self_pct, file, v[i].line);
		else
			snprintf(buf + at, len - at, "%s%s %.1f%%", i ? ", " : "", v[i].function, v[i].self_pct);
	}
	return buf;
}

void tg_cpu_summary_print(FILE *f, const struct tg_results *r)
{
	const struct tg_cpu_profile *p = profile(r);
	struct tg_cpu_fn v[5];
	char path[4096];
	size_t n;

	if (!p)
		return;
	fprintf(f, "CPU profile: %llu samples at %u Hz (self share; folded stacks in %s):\n",
		(unsigned long long)tg_cpu_profile_samples(p), tg_cpu_profile_hz(p), TG_CPU_FOLDED_NAME);
	n = tg_cpu_profile_top(p, v, 5, 101);
	for (size_t i = 0; i < n; i++) {
		const char *file = location(r, &v[i], path, sizeof(path));

		fprintf(f, "  %5.1f%% self %5.1f%% total  %s", v[i].self_pct, v[i].total_pct, v[i].function);
		if (file)
			fprintf(f, " (%s:%d)", file, v[i].line);
		fputc('\n', f);
	}
}

/* ------------------------------------------------------- a saved run (report) */

/* The saved function NAME's file (absolute again, from ROOT) and line. */
static void saved_place(const cJSON *fns, const char *root, const char *name, struct tg_cpu_frame *f,
			char *buf, size_t len)
{
	const cJSON *o;

	f->file = NULL;
	f->line = 0;
	cJSON_ArrayForEach(o, fns) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(o, "function");
		const cJSON *file = cJSON_GetObjectItemCaseSensitive(o, "file");

		if (!cJSON_IsString(fn) || strcmp(fn->valuestring, name))
			continue;
		if (cJSON_IsString(file)) {
			if (file->valuestring[0] == '/' || !root)
				snprintf(buf, len, "%s", file->valuestring);
			else
				snprintf(buf, len, "%s/%s", root, file->valuestring);
			f->file = buf;
		}
		f->line = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "line")) > 0 ?
			  (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "line")) : 0;
		return;
	}
}

/* One folded line "outer;...;inner count" into P. */
static int add_folded_line(struct tg_cpu_profile *p, char *line, const cJSON *fns, const char *root)
{
	static char files[512][1024]; /* a frame's file until the stack is added (it copies them) */
	struct tg_cpu_frame f[512];
	char *sp = strrchr(line, ' '), *end, *save = NULL;
	unsigned long long count;
	size_t n = 0;

	if (!sp || sp == line)
		return 0;
	count = strtoull(sp + 1, &end, 10);
	if (*end || !count)
		return 0;
	*sp = 0;
	for (char *t = strtok_r(line, ";", &save); t && n < 512; t = strtok_r(NULL, ";", &save))
		f[n++] = (struct tg_cpu_frame){ t, NULL, 0 };
	for (size_t i = 0; i < n / 2; i++) { /* innermost first */
		struct tg_cpu_frame x = f[i];

		f[i] = f[n - 1 - i];
		f[n - 1 - i] = x;
	}
	for (size_t i = 0; i < n; i++)
		saved_place(fns, root, f[i].function, &f[i], files[i], sizeof(files[0]));
	return tg_cpu_profile_add_stack(p, f, n, count);
}

struct tg_cpu_profile *tg_cpu_profile_load(const cJSON *results, const char *results_path)
{
	const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(results, "cpu_profile");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(cpu, "folded");
	const cJSON *root = cJSON_GetObjectItemCaseSensitive(results, "source_root");
	const char *slash = strrchr(results_path, '/');
	struct tg_cpu_profile *p;
	char path[4096 + 256], *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (!cJSON_IsObject(cpu) || !cJSON_IsString(name) || strchr(name->valuestring, '/'))
		return NULL;
	snprintf(path, sizeof(path), "%.*s%s", slash ? (int)(slash - results_path + 1) : 0, results_path,
		 name->valuestring);
	if (!(f = fopen(path, "r")))
		return NULL;
	p = tg_cpu_profile_new((uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cpu, "hz")));
	while (p && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (add_folded_line(p, line, cJSON_GetObjectItemCaseSensitive(cpu, "functions"),
				    cJSON_IsString(root) ? root->valuestring : NULL)) {
			tg_cpu_profile_free(p);
			p = NULL;
		}
	}
	if (p) {
		double lost = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cpu, "lost"));

		tg_cpu_profile_set_lost(p, lost > 0 ? (uint64_t)lost : 0, 0);
	}
	free(line);
	fclose(f);
	return p;
}
