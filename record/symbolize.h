/* Address to function/file/line with libdw, for the target and its shared libraries. */
#ifndef TG_SYMBOLIZE_H
#define TG_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct tg_frame {
	uint64_t addr;
	char *function; /* demangled, no hash; "[unknown]" plus module when not found */
	char *file;     /* absolute source path, or NULL */
	int line;       /* 0 when unknown */
	bool inlined;   /* an inlined call inside the next (outer) frame */
	bool own;       /* tg_is_own_code() */
	bool tail_call; /* put back from the caller's call: a tail call hid it (tail_calls.h) */
};

struct tg_symbolizer;

/* Snapshot PID's mappings (/proc/PID/maps) so that addresses can still be
 * symbolized after the process has exited. NULL and errno on failure. */
struct tg_symbolizer *tg_symbolizer_new(pid_t pid);
/* Re-reads the mappings (libraries loaded since); keeps the old ones on failure. */
int tg_symbolizer_refresh(struct tg_symbolizer *sz, pid_t pid);
void tg_symbolizer_free(struct tg_symbolizer *sz);

/* Symbolizes ADDR into up to MAX frames, innermost (deepest inlined) first.
 * RETADDR: ADDR is a return address, look up ADDR-1 so the call's line is found.
 * Returns the number of frames written (at least 1 when MAX >= 1); the
 * strings are owned by the symbolizer's cache and live until it is freed. */
int tg_symbolize(struct tg_symbolizer *sz, uint64_t addr, bool retaddr,
		 struct tg_frame *out, int max);

/* The return address of the function executing at IP when its frame is
 * addressed from the stack pointer (its CFI says CFA = rsp + N): a leaf
 * without a frame pointer, such as libc's syscall wrappers, whose caller a
 * frame-pointer walk skips. STACK holds LEN bytes of user stack copied at SP.
 * 0 and *RA, or -ENOENT when the frame is not sp-based or has no CFI. */
int tg_leaf_return_address(struct tg_symbolizer *sz, uint64_t ip, uint64_t sp,
			   const uint8_t *stack, size_t len, uint64_t *ra);

/* The libdwfl session holding the target's modules (record/unwind.c walks
 * their CFI); NULL when SZ is. */
struct Dwfl *tg_symbolizer_dwfl(struct tg_symbolizer *sz);

/* Data a helper keeps per symbolizer (record/tail_calls.c: indexes of the
 * modules' symbols and relocations), freed with FREE_AUX when SZ is. */
void *tg_symbolizer_aux(struct tg_symbolizer *sz);
void tg_symbolizer_set_aux(struct tg_symbolizer *sz, void *aux, void (*free_aux)(void *));

#endif
