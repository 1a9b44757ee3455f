// SPDX-License-Identifier: MIT
/* Selectors' globs. Lives in the spec stage: the parser checks load selectors
 * against step names, and every later stage matches names with it. */
#include <string.h>

#include "glob.h"

bool tg_glob_match(const char *pattern, const char *name)
{
	const char *star = NULL, *resume = NULL;

	if (!pattern || !name)
		return false;
	while (*name) {
		if (*pattern == '*') {
			star = ++pattern;
			resume = name;
		} else if (*pattern == '?' || *pattern == *name) {
			pattern++, name++;
		} else if (star) {
			pattern = star;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

bool tg_is_glob(const char *s)
{
	return s && strpbrk(s, "*?") != NULL;
}
