/* probe.heap in words: the lines the summary and the junit bodies share. */
#ifndef TG_HEAP_TEXT_H
#define TG_HEAP_TEXT_H

#include <stddef.h>

struct tg_heap_report;
struct tg_heap_site;

/* "grew 7.6MB (peak 7.7MB), 4144 allocations in 1.5s" */
void tg_heap_headline(const struct tg_heap_report *h, char *buf, size_t len);
/* "7.6MB live, 2000 allocs (7.6MB) at costs::handle_request (src/main.rs:208)" */
void tg_heap_site_text(const struct tg_heap_site *s, const char *base, char *buf, size_t len);
/* What the counts miss, or "" when nothing: a full map, no frees seen. */
void tg_heap_caveats(const struct tg_heap_report *h, char *buf, size_t len);

#endif
