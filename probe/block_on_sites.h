/* The futures a block_on polls: #[tokio::main]'s body, Runtime::block_on's
 * and Handle::block_on's futures. They never go through raw::poll, yet they
 * run on a thread of their own (or, on a current_thread runtime, between the
 * tasks) and block like any task. */
#ifndef TG_BLOCK_ON_SITES_H
#define TG_BLOCK_ON_SITES_H

#include <stddef.h>

#include "poll_sites.h"

/* Appends a TG_SITE_BLOCK_ON site to SITES for each async body that Tokio's
 * block_on (or the crate's main, where block_on was inlined) calls directly,
 * named "<its function> (block_on)": "demo::main (block_on)". Returns the
 * number added (0 when the body was inlined away), or -errno with one line in ERR. */
int tg_find_block_on_sites(const char *exe, struct tg_poll_sites *sites, char *err, size_t errlen);

#endif
