/* The futures a block_on polls: #[tokio::main]'s body, Runtime::block_on's
 * and Handle::block_on's futures. They never go through raw::poll, yet they
 * run on a thread of their own (or, on a current_thread runtime, between the
 * tasks) and block like any task. */
#ifndef TG_BLOCK_ON_SITES_H
#define TG_BLOCK_ON_SITES_H

#include <stddef.h>

#include "elf_code.h"
#include "poll_sites.h"

/* Appends to SITES, from the binary C (already open: poll-site discovery
 * reads it once for both), a TG_SITE_BLOCK_ON site for each async body that
 * Tokio's block_on (or the crate's main, where block_on was inlined) calls
 * directly, named "<its function> (block_on)": "demo::main (block_on)", and
 * the park sites that bound an inlined body's polls. Returns the number
 * added, or -ENOMEM. */
int tg_find_block_on_sites(struct tg_elf_code *c, struct tg_poll_sites *sites);

#endif
