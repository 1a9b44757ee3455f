// SPDX-License-Identifier: MIT
/* Function symbols and direct calls of an x86-64 ELF binary. Calls are found
 * by a byte scan, which can misread an operand as an opcode: a target only
 * counts when a function symbol starts exactly there. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_code.h"
#include "names.h"

#define MAX_SCAN 65536 /* bytes of one function scanned for calls */

static int func_cmp(const void *a, const void *b)
{
	const struct tg_elf_func *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int rel_cmp(const void *a, const void *b)
{
	const struct tg_elf_rel *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int index_funcs(struct tg_elf_code *c)
{
	Elf_Data *d = c->symtab ? elf_getdata(c->symtab, NULL) : NULL;
	GElf_Sym s;

	c->funcs = calloc(c->nsyms ? c->nsyms : 1, sizeof(*c->funcs));
	if (!c->funcs)
		return -ENOMEM;
	for (size_t i = 0; d && i < c->nsyms; i++) {
		if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
			continue;
		c->funcs[c->nfuncs++] = (struct tg_elf_func){
			.addr = s.st_value, .size = s.st_size,
			.name = tg_elf_sym_name(c, &s),
		};
	}
	qsort(c->funcs, c->nfuncs, sizeof(*c->funcs), func_cmp);
	return 0;
}

static int index_rels(struct tg_elf_code *c)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Rela ra;
	size_t cap = 0;

	while ((scn = elf_nextscn(c->elf, scn))) {
		Elf_Data *d;
		size_t cnt;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		cnt = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; d && i < cnt; i++) {
			if (!gelf_getrela(d, (int)i, &ra) || GELF_R_TYPE(ra.r_info) != R_X86_64_RELATIVE)
				continue;
			if (c->nrels == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				struct tg_elf_rel *v = realloc(c->rels, ncap * sizeof(*v));

				if (!v)
					return -ENOMEM;
				c->rels = v;
				cap = ncap;
			}
			c->rels[c->nrels++] = (struct tg_elf_rel){ ra.r_offset, (uint64_t)ra.r_addend };
		}
	}
	if (c->rels)
		qsort(c->rels, c->nrels, sizeof(*c->rels), rel_cmp);
	return 0;
}

int tg_elf_code_open(const char *path, struct tg_elf_code *c, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL, *dynsym = NULL;
	GElf_Ehdr eh;
	GElf_Shdr sh;
	int r;

	memset(c, 0, sizeof(*c));
	elf_version(EV_CURRENT);
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	c->elf = elf_begin(c->fd, ELF_C_READ_MMAP, NULL);
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF || !gelf_getehdr(c->elf, &eh)) {
		snprintf(err, errlen, "%s is not an ELF executable", path);
		tg_elf_code_close(c);
		return -ENOEXEC;
	}
	while ((scn = elf_nextscn(c->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			c->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn;
	}
	if (!c->symtab)
		c->symtab = dynsym;
	if (c->symtab && gelf_getshdr(c->symtab, &c->symtab_shdr) && c->symtab_shdr.sh_entsize)
		c->nsyms = c->symtab_shdr.sh_size / c->symtab_shdr.sh_entsize;
	if ((r = index_funcs(c)) || (r = index_rels(c))) {
		snprintf(err, errlen, "reading symbols of %s: %s", path, strerror(-r));
		tg_elf_code_close(c);
		return r;
	}
	return 0;
}

void tg_elf_code_close(struct tg_elf_code *c)
{
	for (size_t i = 0; i < c->nfuncs; i++)
		free(c->funcs[i].dem);
	free(c->funcs);
	free(c->rels);
	if (c->elf)
		elf_end(c->elf);
	if (c->fd > 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
}

const char *tg_elf_sym_name(const struct tg_elf_code *c, const GElf_Sym *s)
{
	return elf_strptr(c->elf, c->symtab_shdr.sh_link, s->st_name);
}

bool tg_elf_has_symtab(const struct tg_elf_code *c)
{
	return c->symtab && c->symtab_shdr.sh_type == SHT_SYMTAB;
}

Elf_Data *tg_elf_section_hdr(const struct tg_elf_code *c, const char *name, uint32_t type, GElf_Shdr *hdr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(c->elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(c->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type)
			continue;
		n = elf_strptr(c->elf, shstrndx, sh.sh_name);
		if (n && strcmp(n, name) == 0) {
			if (hdr)
				*hdr = sh;
			return elf_getdata(scn, NULL);
		}
	}
	return NULL;
}

Elf_Data *tg_elf_section(const struct tg_elf_code *c, const char *name, uint32_t type)
{
	return tg_elf_section_hdr(c, name, type, NULL);
}

size_t tg_elf_func_at(const struct tg_elf_code *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nfuncs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->funcs[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nfuncs && c->funcs[lo].addr == addr ? lo : c->nfuncs;
}

const char *tg_elf_func_dem(struct tg_elf_code *c, size_t i)
{
	struct tg_elf_func *f = &c->funcs[i];

	if (!f->dem_done) {
		f->dem_done = true;
		f->dem = f->name ? tg_demangle(f->name) : NULL;
	}
	return f->dem;
}

int tg_elf_vaddr_to_offset(Elf *elf, uint64_t addr, uint64_t *off)
{
	size_t n, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_filesz) {
			*off = addr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

int tg_elf_read(struct tg_elf_code *c, uint64_t addr, void *buf, size_t len)
{
	uint64_t off;

	if (tg_elf_vaddr_to_offset(c->elf, addr, &off))
		return -ENOENT;
	if (pread(c->fd, buf, len, (off_t)off) != (ssize_t)len)
		return -EIO;
	return 0;
}

uint64_t tg_elf_pointer_at(struct tg_elf_code *c, uint64_t addr)
{
	struct tg_elf_rel key = { addr, 0 }, *hit;
	uint64_t v = 0;

	hit = c->rels ? bsearch(&key, c->rels, c->nrels, sizeof(*c->rels), rel_cmp) : NULL;
	if (hit)
		return hit->addend;
	return tg_elf_read(c, addr, &v, sizeof(v)) ? 0 : v;
}

static bool seen(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

size_t tg_elf_call_targets(struct tg_elf_code *c, uint64_t func, uint64_t *out, size_t max)
{
	size_t n = 0, len = 0;
	unsigned char *code;

	/* aliases may disagree on the size; the largest covers the code */
	for (size_t j = tg_elf_func_at(c, func); j < c->nfuncs && c->funcs[j].addr == func; j++)
		if (c->funcs[j].size > len)
			len = c->funcs[j].size;
	if (len > MAX_SCAN)
		len = MAX_SCAN;
	if (len == 0 || !(code = malloc(len)))
		return 0;
	if (tg_elf_read(c, func, code, len)) {
		free(code);
		return 0;
	}
	for (size_t i = 0; i + 5 <= len && n < max; i++) {
		int32_t rel;
		uint64_t to;

		if (code[i] == 0xe8 || code[i] == 0xe9) {
			memcpy(&rel, code + i + 1, 4);
			to = func + i + 5 + (int64_t)rel;
		} else if (code[i] == 0xff && i + 6 <= len && (code[i + 1] == 0x15 || code[i + 1] == 0x25)) {
			memcpy(&rel, code + i + 2, 4);
			to = tg_elf_pointer_at(c, func + i + 6 + (int64_t)rel);
		} else {
			continue;
		}
		if (to != func && tg_elf_func_at(c, to) < c->nfuncs && !seen(out, n, to))
			out[n++] = to;
	}
	free(code);
	return n;
}
