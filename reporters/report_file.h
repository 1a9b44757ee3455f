/* Every report replaces its file whole: written to an unnamed file (O_TMPFILE)
 * in its folder and named only once complete (linked in under its name when
 * there was none, else through a temporary renamed over the old one), so that
 * a reader (a CI step, a trace viewer) never sees half a file and a kill while
 * writing leaves nothing behind. Where O_TMPFILE is missing: a temporary next
 * to it, renamed the same way. */
#ifndef TG_REPORT_FILE_H
#define TG_REPORT_FILE_H

#include <stddef.h>

/* A new file next to PATH (same filesystem: the rename is atomic), mode 0666
 * less the umask, its name in TMP. The fd, or -errno. */
int tg_report_open(const char *path, char *tmp, size_t tmplen);

/* RC == 0: gives the file PATH's name. Otherwise (or when that fails) removes it.
 * Returns RC, or -errno of the rename. */
int tg_report_commit(const char *tmp, const char *path, int rc);

#endif
