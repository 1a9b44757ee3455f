/* Glob matching with * and ?, as task, function and load selectors use it. */
#ifndef TG_GLOB_H
#define TG_GLOB_H

#include <stdbool.h>

/* True when NAME matches PATTERN (* any run, ? one character). Linear: no
 * backtracking blow-up on "*a*a*a*b". False when either is NULL. */
bool tg_glob_match(const char *pattern, const char *name);
/* True when S holds a glob character. */
bool tg_is_glob(const char *s);

#endif
