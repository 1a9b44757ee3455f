/* Frames that tail calls hid: a function whose last act was a `jmp` into
 * another leaves no frame of its own, but its caller's `call` still names it. */
#ifndef TG_TAIL_CALLS_H
#define TG_TAIL_CALLS_H

#include <stdbool.h>
#include <stdint.h>

struct tg_frame;
struct tg_symbolizer;

/* The function a tail call hid between a frame and its caller, when the
 * instruction before return address RA (the caller's frame) is a direct
 * `call rel32` to the start of a function symbol other than the one holding
 * CALLEE (the next-inner frame's address, itself a return address when
 * CALLEE_RET) and named otherwise than CALLEE_FN (the next-inner frame's
 * outermost function, NULL: unknown). Code bytes come from the module's ELF
 * file, never from the target. Fills *OUT, marked tail_call, and returns 1;
 * 0 when no frame is missing (or the bytes are not at hand). */
int tg_tail_call_frame(struct tg_symbolizer *sz, uint64_t ra, uint64_t callee, bool callee_ret,
		       const char *callee_fn, struct tg_frame *out);

#endif
