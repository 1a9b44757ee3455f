/* Frames as people read them, in every report. */
#ifndef TG_FRAME_TEXT_H
#define TG_FRAME_TEXT_H

#include <stddef.h>

struct tg_frame;

/* FILE relative to BASE when it lies below it, ../ paths when
 * it lies next to it (at most three folders up, not only the root in common),
 * else FILE itself. */
const char *tg_display_path(const char *file, const char *base, char *buf, size_t len);

/* "path/to/file.rs:42" (relative to BASE as above), "path/file.rs" without a
 * line, or "" when the frame has no file. Returns BUF. */
const char *tg_frame_location(const struct tg_frame *f, const char *base, char *buf, size_t len);
/* "demo::handler (src/main.rs:42)", or just the function without a file. Returns BUF. */
const char *tg_frame_text(const struct tg_frame *f, const char *base, char *buf, size_t len);

#endif
