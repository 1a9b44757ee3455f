/* Appending to a fixed-size message buffer: checks and load summaries build
 * one-line messages piece by piece. */
#ifndef TG_CAT_H
#define TG_CAT_H

#include <stddef.h>

/* Appends FMT to the string in BUF (LEN bytes in all); silently truncates. */
void tg_cat(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
