/* junit.xml with libxml2: one testsuite per spec, one testcase per check. */
#ifndef TG_JUNIT_H
#define TG_JUNIT_H

#include <stddef.h>

struct tg_results;

/* Writes R's checks to PATH. 0, or -errno with one line in ERR. */
int tg_junit_write(const char *path, const struct tg_results *r, char *err, size_t errlen);

#endif
