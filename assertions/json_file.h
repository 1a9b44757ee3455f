/* Reading a results.json: the file, its version, its numbers. Shared by the
 * --baseline reader (baseline.c), `report`'s loader and `diff`. */
#ifndef TG_JSON_FILE_H
#define TG_JSON_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Reads and parses PATH. *DOC on success (free with cJSON_Delete); else
 * -errno / -EINVAL with one line in ERR, prefixed by WHAT and the path
 * ("baseline x.json:3:7: not JSON ..."). */
int tg_json_read_file(const char *what, const char *path, cJSON **doc, char *err, size_t errlen);

/* Checks that DOC is a results.json this tokio-guard reads (version 1, with
 * tasks). 0, or -EINVAL with what is wrong in WHY. */
int tg_json_check_results(const cJSON *doc, char *why, size_t len);

/* O's KEY as a whole non-negative number (polls, nanoseconds). */
bool tg_json_u64(const cJSON *o, const char *key, uint64_t *v);
/* O's KEY as a string, or NULL. */
const char *tg_json_str(const cJSON *o, const char *key);
/* O's KEY as a number, or DEF when absent or not a number. */
double tg_json_num(const cJSON *o, const char *key, double def);
/* O's KEY as a bool, or DEF. */
bool tg_json_bool(const cJSON *o, const char *key, bool def);

#endif
