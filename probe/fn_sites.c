// SPDX-License-Identifier: MIT
/* Function selectors. Names are matched the way frames are displayed
 * (demangled, no hashes, no ::<generics>), so "blocking_kinds::burn_cpu"
 * selects the same function under legacy and v0 mangling. Both symbol tables
 * are read: a binary stripped down to .dynsym still exports some functions,
 * and the duplicates this gives are dropped by address. An entry probe sits
 * on the out-of-line copy only: calls where the compiler inlined the
 * function (LTO does so across crates) are not seen. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_code.h"
#include "fn_sites.h"
#include "names.h"

static int push(struct tg_fn_sites *out, size_t *cap, uint64_t addr, uint64_t off, char *name)
{
	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct tg_fn_site *v = realloc(out->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		out->v = v;
		*cap = ncap;
	}
	out->v[out->n++] = (struct tg_fn_site){ addr, off, name };
	return 0;
}

/* The simplified name of a symbol if GLOB matches it, else NULL. */
static char *matching_name(const char *sym, const char *glob)
{
	char *name = tg_demangle(sym);

	if (!name)
		return NULL;
	tg_strip_turbofish(name);
	if (tg_glob_match(glob, name))
		return name;
	free(name);
	return NULL;
}

static int scan_symtab(Elf *elf, Elf_Scn *scn, const char *glob, struct tg_fn_sites *out, size_t *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	GElf_Sym s;
	size_t n;

	if (!d || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return 0;
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		const char *sym;
		uint64_t off;
		char *name;

		if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_shndx == SHN_UNDEF || s.st_value == 0 || s.st_size == 0)
			continue;
		sym = elf_strptr(elf, sh.sh_link, s.st_name);
		if (!sym || !(name = matching_name(sym, glob)))
			continue;
		/* not in a loaded segment: nothing a uprobe could hit */
		if (tg_elf_vaddr_to_offset(elf, s.st_value, &off)) {
			free(name);
			continue;
		}
		if (push(out, cap, s.st_value, off, name)) {
			free(name);
			return -ENOMEM;
		}
	}
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct tg_fn_site *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sorted by address, one entry per address (aliases and the .dynsym copy
 * of a .symtab symbol name the same code), at most MAX. */
static void dedupe(struct tg_fn_sites *s, size_t max)
{
	size_t w = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), by_addr);
	for (size_t i = 0; i < s->n; i++) {
		if ((w > 0 && s->v[w - 1].addr == s->v[i].addr) || w == max) {
			free(s->v[i].name);
			continue;
		}
		s->v[w++] = s->v[i];
	}
	s->n = w;
}

static int scan_elf(Elf *elf, const char *glob, struct tg_fn_sites *out)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;
	GElf_Shdr sh;
	int r;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		if ((r = scan_symtab(elf, scn, glob, out, &cap)))
			return r;
	}
	return 0;
}

int tg_find_functions(const char *exe, const char *glob, size_t max, struct tg_fn_sites *out,
		      char *err, size_t errlen)
{
	Elf *elf = NULL;
	int fd, r = 0;

	memset(out, 0, sizeof(*out));
	elf_version(EV_CURRENT);
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s; check the target's path", exe, strerror(-r));
		return r;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(err, errlen, "%s is not an ELF executable: function selectors need the target binary", exe);
		r = -ENOEXEC;
	} else if ((r = scan_elf(elf, glob, out))) {
		snprintf(err, errlen, "reading the symbols of %s: %s", exe, strerror(-r));
	}
	if (elf)
		elf_end(elf);
	close(fd);
	if (r)
		tg_fn_sites_free(out);
	else
		dedupe(out, max);
	return r;
}

void tg_fn_sites_free(struct tg_fn_sites *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
