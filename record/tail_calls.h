/* Frames that tail calls hid: a function whose last act was a `jmp` into
 * another leaves no frame of its own, but its caller's `call` still names it. */
#ifndef TG_TAIL_CALLS_H
#define TG_TAIL_CALLS_H

#include <stdbool.h>
#include <stdint.h>

struct tg_frame;
struct tg_symbolizer;

/* The function a tail call hid between a frame and its caller, when the
 * instruction before return address RA (the caller's frame) is a call whose
 * target the file says (call rel32, or through a GOT slot the file fills)
 * and that target is the start of a function symbol other than the one
 * holding CALLEE (the next-inner frame's address, itself a return address
 * when CALLEE_RET) and named otherwise than CALLEE_FN (the next-inner frame's
 * outermost function; NULL: unknown), and that target holds a jump to the
 * start of CALLEE's function. Writes up to MAX frames, innermost first, of
 * that jump (its line, and what was inlined there), all marked tail_call. Code bytes come from the module's ELF file, never from the
 * target. Returns the count; 0 when no frame is missing. */
int tg_tail_call_frames(struct tg_symbolizer *sz, uint64_t ra, uint64_t callee, bool callee_ret,
			const char *callee_fn, struct tg_frame *out, int max);

#endif
