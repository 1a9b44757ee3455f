/* Functions built -O2 into a shared library (tests/CMakeLists.txt) so that
 * one of them ends in a tail call, for test_tail_calls. */
#ifndef TG_TAIL_TARGET_H
#define TG_TAIL_TARGET_H

#include <stdint.h>

/* What a leaf saw of its own call: mid tail-called it, top called mid. */
struct tail_seen {
	uint64_t leaf;     /* the leaf function's address (the innermost frame's function) */
	uint64_t ra;       /* the leaf's return address: into top, mid has no frame */
	uint64_t mid;      /* the function whose frame the tail call removed */
	int jump_line;     /* the line of mid's tail call */
};

/* top -> mid -> (jmp) leaf, with file-local functions: direct call and jmp (E8, E9). */
void tail_direct(struct tail_seen *out);
/* The same with exported functions called through the GOT (-fno-plt: ff 15, ff 25). */
void tail_got(struct tail_seen *out);
/* top -> leaf by a plain call: nothing is missing. */
void tail_none(struct tail_seen *out);

/* exported so that calls to them go through the GOT */
uint64_t tail_got_leaf(struct tail_seen *out);
uint64_t tail_got_mid(struct tail_seen *out);

#endif
