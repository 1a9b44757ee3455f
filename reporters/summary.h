/* The terminal summary at the end of a run. */
#ifndef TG_SUMMARY_H
#define TG_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

struct tg_results;

/* Checks passed/failed, the worst spans with culprit and a recommendation by
 * kind, and where the reports are. COLOR: ANSI colours (only on a terminal). */
void tg_summary_print(FILE *f, const struct tg_results *r, bool color);

/* The verdict line and the failed and warned checks only: what --quiet still says. */
void tg_summary_print_verdict(FILE *f, const struct tg_results *r, bool color);

#endif
