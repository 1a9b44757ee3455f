// SPDX-License-Identifier: MIT
/* Frames as people read them: source paths relative to the spec's folder. */
#include <stdio.h>
#include <string.h>

#include "frame_text.h"
#include "symbolize.h"

/* How many folders separate FILE from BASE (N long, no trailing slash) when
 * they share a folder other than the root, and where FILE's own part starts. */
static int folders_up(const char *file, const char *base, size_t n, size_t *rest)
{
	size_t common = 0, i;
	int ups = 1;

	for (i = 0; i < n && file[i] == base[i]; i++)
		if (base[i] == '/')
			common = i;
	if (i == n && file[i] == '/')
		common = i;
	if (common == 0)
		return -1; /* only the root in common: a path from there reads better */
	for (i = common + 1; i < n; i++)
		ups += base[i] == '/';
	*rest = common + 1;
	return ups;
}

const char *tg_display_path(const char *file, const char *base, char *buf, size_t len)
{
	size_t n = base ? strlen(base) : 0, rest = 0;
	int ups;

	if (!file)
		return NULL;
	while (n > 0 && base[n - 1] == '/')
		n--; /* "/" becomes "": the root, below which every absolute path lies */
	if ((n || (base && base[0] == '/')) && strncmp(file, base, n) == 0 && file[n] == '/') {
		snprintf(buf, len, "%s", file + n + 1);
		return buf;
	}
	/* a sibling folder of the spec's (a workspace's other crate): ../crate/src/lib.rs,
	 * as long as that stays short */
	if (n && file[0] == '/' && base[0] == '/' && (ups = folders_up(file, base, n, &rest)) > 0 &&
	    ups <= 3 && strcmp(file, base) != 0) {
		size_t k = 0;

		buf[0] = 0;
		for (int i = 0; i < ups && k + 3 < len; i++, k += 3)
			memcpy(buf + k, "../", 4);
		snprintf(buf + k, len - k, "%s", file + rest);
		return buf;
	}
	return file;
}

const char *tg_frame_location(const struct tg_frame *f, const char *base, char *buf, size_t len)
{
	char rel[4096];
	const char *file = f && f->file ? tg_display_path(f->file, base, rel, sizeof(rel)) : NULL;

	if (!file)
		snprintf(buf, len, "%s", "");
	else if (f->line > 0)
		snprintf(buf, len, "%s:%d", file, f->line);
	else
		snprintf(buf, len, "%s", file);
	return buf;
}

const char *tg_frame_text(const struct tg_frame *f, const char *base, char *buf, size_t len)
{
	char loc[4096];
	const char *fn = f && f->function ? f->function : "[unknown]";

	tg_frame_location(f, base, loc, sizeof(loc));
	if (loc[0])
		snprintf(buf, len, "%s (%s)", fn, loc);
	else
		snprintf(buf, len, "%s", fn);
	return buf;
}

