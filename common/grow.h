/* Growing arrays: one rule for every vector the record and reports keep. */
#ifndef TG_GROW_H
#define TG_GROW_H

#include <stddef.h>

/* Makes *V (of *CAP elements of ELEM bytes) hold at least NEED, doubling from
 * 64. 0, or -ENOMEM with *V and *CAP unchanged. */
int tg_grow(void **v, size_t *cap, size_t need, size_t elem);

#endif
