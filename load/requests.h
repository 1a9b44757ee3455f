/* Requests counted: the live per-step counters runner/progress.c shows while a
 * step runs, and a finished step's errors in words for the load check and
 * the reports. Here, not in those later stages, so that load includes
 * nothing after it in the flow. */
#ifndef TG_REQUESTS_H
#define TG_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

struct tg_step_result;

/* N more finished requests, ERRORS of them failed. Any thread, lock-free;
 * harmless when nobody reads them. */
void tg_progress_add_requests(uint64_t n, uint64_t errors);
/* The counts since the last reset. */
void tg_load_requests_read(uint64_t *requests, uint64_t *errors);
void tg_load_requests_reset(void);

/* A traffic step's errors by kind: "20 connect errors", "3 status errors, 1 timeout";
 * "no errors" when there were none. */
void tg_load_errors_text(const struct tg_step_result *r, char *buf, size_t len);

#endif
