/* The stack-frame table of trace.json's "stackFrames": one id per distinct
 * (parent frame, name, category), so a sample names its whole stack with one
 * number. The names are borrowed, never copied: they outlive the table. */
#ifndef TG_TRACE_FRAMES_H
#define TG_TRACE_FRAMES_H

#include <stddef.h>
#include <stdint.h>

struct tg_trace_frame {
	uint32_t parent;  /* 0: a root frame */
	const char *name;
	const char *cat;
};

struct tg_trace_frames {
	struct tg_trace_frame *v; /* v[id - 1]: ids start at 1 */
	size_t n, cap;
	uint32_t *slot;           /* open addressing: 0 empty, else an id */
	size_t nslot;
};

/* The id of (PARENT, NAME, CAT), added when new; 0 when out of memory. */
uint32_t tg_trace_frame_id(struct tg_trace_frames *t, uint32_t parent, const char *name,
			   const char *cat);

void tg_trace_frames_free(struct tg_trace_frames *t);

#endif
