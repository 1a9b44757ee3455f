// SPDX-License-Identifier: MIT
/* Reports name source files from the repository's root, as GitHub places
 * annotations and as people read paths in a pull request; the spec's own
 * folder is only the fallback for a spec outside any repository. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "source_root.h"

static char *trimmed(char *p)
{
	size_t n = p ? strlen(p) : 0;

	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	return p;
}

/* A .git folder, or the .git file of a worktree or submodule, marks the top. */
static char *git_top(const char *dir)
{
	char path[PATH_MAX + 8], *d = strdup(dir);
	struct stat st;

	while (d && d[0] == '/') {
		snprintf(path, sizeof(path), "%s%s.git", d, d[1] ? "/" : "");
		if (lstat(path, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
			return d;
		char *slash = strrchr(d, '/');
		if (slash == d) {
			if (!d[1])
				break;
			d[1] = 0;
		} else {
			*slash = 0;
		}
	}
	free(d);
	return NULL;
}

char *tg_source_root(const char *spec_dir)
{
	const char *ws = getenv("GITHUB_WORKSPACE");
	char *top;

	if (ws && ws[0] == '/') {
		/* the checkout may be reached through a symlink; paths from DWARF are real */
		char *real = realpath(ws, NULL);
		return trimmed(real ? real : strdup(ws));
	}
	if (spec_dir && (top = git_top(spec_dir)))
		return trimmed(top);
	return spec_dir ? trimmed(strdup(spec_dir)) : NULL;
}

const char *tg_spec_root(const struct tg_spec *spec)
{
	return !spec ? NULL : spec->root ? spec->root : spec->dir;
}
