/* Finds every tokio::runtime::task::raw::poll<T, S> instance in a Tokio ELF
 * binary, names T, and tells runtime polls from blocking-pool polls by S. */
#ifndef TG_POLL_SITES_H
#define TG_POLL_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_poll_site {
	uint64_t addr;      /* ELF virtual address */
	uint64_t offset;    /* file offset, what a uprobe attaches to */
	char *symbol;       /* as in the symbol table (mangled) */
	char *future_type;  /* T, demangled; NULL when it could not be found */
	char *scheduler;    /* S, demangled; NULL when unknown */
	char *task_name;    /* simplified T, or "tokio::task@0x<addr>" when unknown */
	int kind;           /* enum tg_site_kind */
	int segments;       /* TG_SITE_BLOCK_ON without an address of its own: the polls between
			     * parks of the main thread (1) or of other threads (2); not attached */
	const char *named_by; /* "dwarf", "symbol", "drop_in_place" or "none" */
};

struct tg_poll_sites {
	struct tg_poll_site *v;
	size_t n;
	bool has_symtab;    /* a .symtab (not only .dynsym) was present */
	bool has_dwarf;
	bool frame_pointers; /* the build keeps frame pointers: stacks can be walked */
	char tokio_version[32]; /* "1.24.2" from DWARF's paths or .rodata's panic locations, else "" */
};

/* The x.y.z of the first ".../tokio-x.y.z/src/" in the LEN bytes at BUF, into OUT; "" if none. */
void tg_tokio_version_in(const char *buf, size_t len, char *out, size_t outlen);

/* Returns 0 with at least one site, -ENOENT when the binary has none (with
 * the likely reason in ERR), or another -errno when it cannot be read. */
int tg_find_poll_sites(const char *exe, struct tg_poll_sites *out, char *err, size_t errlen);
/* The same, followed by the block_on sites (block_on_sites.h), reading the
 * binary once for both: what a run probes. */
int tg_find_task_sites(const char *exe, struct tg_poll_sites *out, char *err, size_t errlen);
void tg_poll_sites_free(struct tg_poll_sites *sites);

/* For the discovery passes (poll sites from symbols, from task vtables): a
 * site at ADDR made room for in OUT, zeroed but for its address and file
 * offset, in *SITE; the caller fills it and counts it (out->n++). *SITE is
 * NULL when ADDR is in no loaded segment (it cannot be probed). 0 or -ENOMEM. */
struct tg_elf_code;
int tg_poll_site_new(struct tg_poll_sites *out, struct tg_elf_code *c, uint64_t addr,
		     struct tg_poll_site **site);

#endif
