/* probe.cpu_profile in the reports: cpu.folded beside them, results.json's
 * cpu_profile, the summary's and junit's top functions. */
#ifndef TG_CPU_REPORT_H
#define TG_CPU_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct cJSON;
struct tg_cpu_profile;
struct tg_results;

#define TG_CPU_FOLDED_NAME "cpu.folded"
#define TG_CPU_TOP_FUNCTIONS 50 /* results.json's list, by self share */
#define TG_CPU_MIN_TOTAL_PCT 5.0 /* ... then callers holding at least this total share */

/* Writes R's folded stacks to PATH (replacing it whole). 0 or -errno, ERR says why. */
int tg_cpu_folded_write(const char *path, const struct tg_results *r, char *err, size_t errlen);
/* results.json's "cpu_profile" object, or NULL when the profile was off. */
struct cJSON *tg_cpu_profile_json(const struct tg_results *r);
/* "costs::spin 61.0% (src/main.rs:150), ..." : the N functions with the most
 * self samples, into BUF. Returns BUF ("" when the profile was off). */
const char *tg_cpu_top_text(const struct tg_results *r, size_t n, char *buf, size_t len);
/* The terminal's "CPU profile:" lines (nothing when off). */
void tg_cpu_summary_print(FILE *f, const struct tg_results *r);

/* A saved run's profile (`report`): RESULTS' cpu_profile and the cpu.folded
 * it names beside RESULTS_PATH, its functions' places from the saved list.
 * NULL when the run had none or the file is gone. */
struct tg_cpu_profile *tg_cpu_profile_load(const struct cJSON *results, const char *results_path);

#endif
