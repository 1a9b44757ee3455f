/* results.json's workers[]. Shares are rounded to 0.1 point: finer digits are
 * noise at a second's resolution. */
#include <math.h>

#include "workers.h"
#include "workers_json.h"

static double round1(double v)
{
	return round(v * 10.0) / 10.0;
}

static cJSON *timeline_json(const struct tg_worker_util *w)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t s = 0; a && s < w->nseconds; s++) {
		cJSON *pt = cJSON_CreateArray();

		cJSON_AddItemToArray(pt, cJSON_CreateNumber((double)s));
		cJSON_AddItemToArray(pt, cJSON_CreateNumber(round1(w->timeline[s])));
		cJSON_AddItemToArray(a, pt);
	}
	return a;
}

cJSON *tg_workers_json(const struct tg_worker_util *w, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && w && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "tid", w[i].tid);
		cJSON_AddStringToObject(o, "name", w[i].name ? w[i].name : "");
		cJSON_AddNumberToObject(o, "busy_pct", round1(w[i].busy_pct));
		cJSON_AddNumberToObject(o, "blocked_pct", round1(w[i].blocked_pct));
		cJSON_AddNumberToObject(o, "idle_pct", round1(w[i].idle_pct));
		cJSON_AddNumberToObject(o, "busy_ns", (double)w[i].busy_ns);
		cJSON_AddNumberToObject(o, "blocked_ns", (double)w[i].blocked_ns);
		cJSON_AddItemToObject(o, "timeline", timeline_json(&w[i]));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}
