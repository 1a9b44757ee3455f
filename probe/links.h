/* The probes a session holds: libbpf links and raw link fds (uprobe_multi),
 * released together. Releasing a uprobe waits for the kernel to be sure no
 * thread is still inside it (about 40-110 ms here, per link): done one after
 * another that is seconds for a few dozen links, so they are released from
 * many threads at once, whose waits overlap. Perf-event uprobes wait one
 * after another in the kernel whatever the threads (uprobe_perf.h): those
 * are released by a background process, so the run does not wait for them. */
#ifndef TG_LINKS_H
#define TG_LINKS_H

#include <stddef.h>

struct bpf_link;

struct tg_links {
	struct bpf_link **links;
	size_t nlinks, caplinks;
	int *fds;
	size_t nfds, capfds;
	int *slow;   /* fds whose release the kernel serializes */
	size_t nslow, capslow;
};

/* Keeps L (or FD). On failure (-ENOMEM) it is released at once. */
int tg_links_add(struct tg_links *s, struct bpf_link *l);
int tg_links_add_fd(struct tg_links *s, int fd);
int tg_links_add_slow(struct tg_links *s, int fd);

/* Links and fds held. */
size_t tg_links_count(const struct tg_links *s);

/* Detaches and closes everything, in parallel, the slow fds in a background
 * process that ends when they are closed; S is empty (and reusable) after. */
void tg_links_release(struct tg_links *s);
/* Releases everything and frees S's arrays. */
void tg_links_free(struct tg_links *s);

#endif
