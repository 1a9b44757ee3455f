/* Bad usage, said the same way by every command: one line, then its synopsis. */
#ifndef TG_USAGE_H
#define TG_USAGE_H

/* "tokio-guard: <FMT...>" and SYNOPSIS (ending in a newline) on stderr;
 * returns TG_EXIT_USAGE (2). */
__attribute__((format(printf, 2, 3))) int tg_usage_error(const char *synopsis, const char *fmt, ...);

#endif
