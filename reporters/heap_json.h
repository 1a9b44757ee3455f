/* results.json's `heap` (probe.heap): call sites, peak and growth. */
#ifndef TG_HEAP_JSON_H
#define TG_HEAP_JSON_H

#include <cjson/cJSON.h>

struct tg_heap_report;

/* The heap object; source paths relative to BASE (NULL: as they are). */
cJSON *tg_heap_json(const struct tg_heap_report *h, const char *base);
/* The same read back (`tokio-guard report`): 0, or -ENOMEM (H then freed). */
int tg_heap_from_json(const cJSON *o, struct tg_heap_report *h);

#endif
