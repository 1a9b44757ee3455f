/* The tcp transport of traffic steps: send bytes, read until a substring. */
#ifndef TG_LOAD_TCP_H
#define TG_LOAD_TCP_H

#include "load_http.h" /* struct tg_xport_ops: the interface both transports implement */

extern const struct tg_xport_ops tg_xport_tcp;

#endif
