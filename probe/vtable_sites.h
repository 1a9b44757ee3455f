/* Poll sites of a stripped binary (no symbol table): every task vtable is
 * static data holding raw::poll<T, S>'s address in its first slot, and its
 * shape is recognizable without names (seven code pointers, then three
 * offsets into the task cell). */
#ifndef TG_VTABLE_SITES_H
#define TG_VTABLE_SITES_H

#include "elf_code.h"
#include "poll_sites.h"

/* Adds a site per task vtable found in C's relocated read-only data, its
 * scheduler set to BlockingSchedule where the vtable's schedule slot is that
 * scheduler's (it panics "entered unreachable code": blocking-pool tasks are
 * never scheduled). Returns the number added or -errno. */
int tg_find_vtable_sites(struct tg_elf_code *c, struct tg_poll_sites *out);


#endif
