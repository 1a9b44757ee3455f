/* Built with -O2 -fno-plt into a shared library: the mid functions end in
 * a sibling call, which GCC compiles to a jmp (so no stack shows them), and
 * calls between exported functions go through the GOT. The test checks the
 * jmp from the leaf's return address, not from this comment. */
#include "tail_target.h"

#ifdef __clang__
#define NOINLINE __attribute__((noinline))
#else /* noclone: a .constprop clone would not be the function called */
#define NOINLINE __attribute__((noinline, noclone))
#endif

static volatile int sink;

/* One line per function: the line of every instruction is __LINE__. */
NOINLINE static uint64_t direct_leaf(struct tail_seen *out) { out->leaf = (uint64_t)(uintptr_t)&direct_leaf; out->ra = (uint64_t)(uintptr_t)__builtin_return_address(0); sink++; return out->ra; }

NOINLINE static uint64_t direct_mid(struct tail_seen *out) { out->mid = (uint64_t)(uintptr_t)&direct_mid; out->jump_line = __LINE__; return direct_leaf(out); }

/* the store after the call keeps top's own call from being a tail call */
NOINLINE static uint64_t direct_top(struct tail_seen *out) { uint64_t r = direct_mid(out); sink++; return r; }

void tail_direct(struct tail_seen *out)
{
	direct_top(out);
	sink++;
}

NOINLINE uint64_t tail_got_leaf(struct tail_seen *out) { out->leaf = (uint64_t)(uintptr_t)&tail_got_leaf; out->ra = (uint64_t)(uintptr_t)__builtin_return_address(0); sink++; return out->ra; }

NOINLINE uint64_t tail_got_mid(struct tail_seen *out) { out->mid = (uint64_t)(uintptr_t)&tail_got_mid; out->jump_line = __LINE__; return tail_got_leaf(out); }

void tail_got(struct tail_seen *out)
{
	tail_got_mid(out);
	sink++;
}

void tail_none(struct tail_seen *out)
{
	out->mid = 0;
	direct_leaf(out);
	sink++;
}
