/* results.json's workers[]: per worker thread, its busy, blocked and idle
 * shares of the run and its busy share per second (record/workers.h). */
#ifndef TG_WORKERS_JSON_H
#define TG_WORKERS_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct tg_worker_util;

/* [{"tid", "name", "busy_pct", "blocked_pct", "idle_pct", "timeline": [[t_s, busy_pct], ...]}] */
cJSON *tg_workers_json(const struct tg_worker_util *w, size_t n);

#endif
