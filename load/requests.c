/* Requests counted while a step runs and after it: see requests.h. */
#include "requests.h"
#include "cat.h"
#include "load.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static _Atomic uint64_t g_requests, g_errors;

void tg_progress_add_requests(uint64_t n, uint64_t errors)
{
	atomic_fetch_add_explicit(&g_requests, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_errors, errors, memory_order_relaxed);
}

void tg_load_requests_read(uint64_t *requests, uint64_t *errors)
{
	*requests = atomic_load(&g_requests);
	*errors = atomic_load(&g_errors);
}

void tg_load_requests_reset(void)
{
	atomic_store(&g_requests, 0);
	atomic_store(&g_errors, 0);
}

void tg_load_errors_text(const struct tg_step_result *r, char *buf, size_t len)
{
	static const char *const kind[TG_LERR__COUNT][2] = {
		[TG_LERR_CONNECT] = { "connect error", "connect errors" },
		[TG_LERR_TIMEOUT] = { "timeout", "timeouts" },
		[TG_LERR_STATUS] = { "status error", "status errors" },
		[TG_LERR_EXPECT] = { "reply without the expected text", "replies without the expected text" },
		[TG_LERR_IO] = { "I/O error", "I/O errors" },
	};
	uint64_t listed = 0;

	buf[0] = '\0';
	for (int k = 0; k < TG_LERR__COUNT; k++) {
		uint64_t n = r->errors_by_kind[k];
		if (!n)
			continue;
		tg_cat(buf, len, "%s%" PRIu64 " %s", buf[0] ? ", " : "", n, kind[k][n != 1]);
		listed += n;
	}
	if (r->errors > listed)
		tg_cat(buf, len, "%s%" PRIu64 " other error%s", buf[0] ? ", " : "", r->errors - listed,
		    r->errors - listed == 1 ? "" : "s");
	if (!buf[0])
		snprintf(buf, len, "no errors");
}
