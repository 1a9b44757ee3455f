/* Function selectors: the binary's functions a glob names, for entry uprobes. */
#ifndef TG_FN_SITES_H
#define TG_FN_SITES_H

#include <stddef.h>
#include <stdint.h>

struct tg_fn_site {
	uint64_t addr;   /* symbol value (virtual address) */
	uint64_t offset; /* file offset for uprobe attach */
	char *name;      /* demangled, without hashes or ::<generics> */
};

struct tg_fn_sites {
	struct tg_fn_site *v;
	size_t n;
};

/* Every defined function symbol of EXE whose simplified demangled name
 * matches GLOB (tg_glob_match), one per address, at most MAX. 0 (n may be 0)
 * or -errno with one line in ERR. */
int tg_find_functions(const char *exe, const char *glob, size_t max, struct tg_fn_sites *out,
		      char *err, size_t errlen);
void tg_fn_sites_free(struct tg_fn_sites *s);

#endif
