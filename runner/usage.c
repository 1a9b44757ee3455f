/* Bad usage: what was wrong in one line, then how the command goes. */
#include <stdarg.h>
#include <stdio.h>

#include "session.h"
#include "usage.h"

int tg_usage_error(const char *synopsis, const char *fmt, ...)
{
	va_list ap;

	fputs("tokio-guard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(synopsis, stderr);
	return TG_EXIT_USAGE;
}
