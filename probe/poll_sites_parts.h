/* The insides poll_sites.c and vtable_names.c share. Not a face: the rest of
 * tokio-guard includes poll_sites.h. */
#ifndef TG_POLL_SITES_PARTS_H
#define TG_POLL_SITES_PARTS_H

#include "elf_code.h"
#include "poll_sites.h"

/* poll_sites.c */
const char *func_dem(struct tg_elf_code *c, size_t i);

/* vtable_names.c */
void name_sites_vtable(struct tg_elf_code *c, struct tg_poll_sites *out);

#endif
