/* Ground truth for the end-to-end tests: what the example targets measured
 * of themselves (GUARD_EXAMPLE_LOG lines), their `// guard:<kind>` marker
 * lines, and the results.json fields compared with them. */
#ifndef TG_E2E_TRUTH_H
#define TG_E2E_TRUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

/* One measured section: "kind=cpu ms=20 wall_us=20005 cpu_us=19945 tid=4676 pid=4670"
 * (pid: 0 in a log written before it was added). */
struct e2e_section {
	long ms, wall_us, cpu_us, tid, pid;
};

/* The sections of KIND in LOG, in order, at most MAX. A line of KIND that
 * does not parse fails the test: the target's log is the truth, not noise. */
size_t e2e_sections(const char *log, const char *kind, struct e2e_section *out, size_t max);

/* Which of KINDS (N of them) TASK is the task of: "<CRATE>::<kind>_task", as
 * the examples name them; N when none. */
size_t e2e_kind_of_task(const char *task, const char *crate, const char *const *kinds, size_t n);

/* The line of `// guard:KIND` in the source file PATH (fails the test when absent). */
int e2e_marker_line(const char *path, const char *kind);

/* The tolerance of a duration measured against the truth: max(5%, 0.5 ms). */
double e2e_tolerance_us(double truth_us);
/* A duration within that tolerance of the truth. */
bool e2e_close_us(double measured_us, double truth_us);

/* Of the N SPANS (results.json blocking_spans), the one closest in duration
 * to WALL_US that is not USED yet, marked used; NULL when all are. */
const cJSON *e2e_closest_span(const cJSON **spans, bool *used, size_t n, long wall_us);

/* PATH parsed as JSON, or NULL. */
cJSON *e2e_load_json(const char *path);
/* A number field (fails the test when absent) and a string field (NULL when absent). */
double e2e_num(const cJSON *o, const char *key);
const char *e2e_str(const cJSON *o, const char *key);

#endif
