/* Traffic steps (http, tcp): one scheduler (load.c), two transports.
 * A transport runs requests on numbered slots, each slot one request in
 * flight at a time and one connection kept open across requests. */
#ifndef TG_LOAD_HTTP_H
#define TG_LOAD_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct tg_step;

/* Called by a transport when the request on SLOT finished: KIND is -1 on
 * success or an enum tg_load_error. */
typedef void (*tg_xport_done_fn)(void *ctx, unsigned slot, int kind);

struct tg_xport_ops {
	const char *name;
	/* NSLOTS slots for STEP; 0 or -errno with one line in ERR. */
	int (*open)(void **xp, const struct tg_step *step, unsigned nslots,
		    tg_xport_done_fn done, void *ctx, char *err, size_t errlen);
	/* Starts a request on a free SLOT; its completion comes through DONE
	 * (possibly from inside this call). */
	void (*start)(void *xp, unsigned slot);
	/* Waits at most TIMEOUT_NS for progress and reports what finished. */
	void (*wait)(void *xp, uint64_t timeout_ns);
	/* Abandons whatever is in flight and frees everything. */
	void (*close)(void *xp);
};

extern const struct tg_xport_ops tg_xport_http;

#endif
