/* A binary's code as the discovery passes read it: function symbols by
 * address, their demangled names, and the direct call targets of a function
 * (rel32 calls and jumps, and calls through the GOT). */
#ifndef TG_ELF_CODE_H
#define TG_ELF_CODE_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_elf_func {
	uint64_t addr, size;
	const char *name; /* as in the symbol table */
	char *dem;        /* demangled, on demand */
	bool dem_done;
};

struct tg_elf_rel { uint64_t off, addend; };

struct tg_elf_code {
	int fd;
	Elf *elf;
	Elf_Scn *symtab;    /* .symtab, else .dynsym */
	GElf_Shdr symtab_shdr;
	size_t nsyms;
	struct tg_elf_func *funcs; /* sorted by address; identical code folds into aliases */
	size_t nfuncs;
	struct tg_elf_rel *rels;   /* R_X86_64_RELATIVE, sorted: a PIE's pointers */
	size_t nrels;
};

/* Opens PATH and indexes its function symbols and relative relocations.
 * 0, or -errno with one line in ERR. */
int tg_elf_code_open(const char *path, struct tg_elf_code *c, char *err, size_t errlen);
void tg_elf_code_close(struct tg_elf_code *c);

/* Symbol S's name in the indexed symbol table. */
const char *tg_elf_sym_name(const struct tg_elf_code *c, const GElf_Sym *s);
/* Whether the symbols are a full .symtab, not only the exported .dynsym. */
bool tg_elf_has_symtab(const struct tg_elf_code *c);
/* The contents of section NAME of type TYPE, or NULL. */
Elf_Data *tg_elf_section(const struct tg_elf_code *c, const char *name, uint32_t type);
/* The same, its header (address, size) in *HDR when found and HDR is given. */
Elf_Data *tg_elf_section_hdr(const struct tg_elf_code *c, const char *name, uint32_t type, GElf_Shdr *hdr);

/* Index of the first symbol starting at ADDR, or nfuncs. */
size_t tg_elf_func_at(const struct tg_elf_code *c, uint64_t addr);
/* funcs[i]'s demangled name (cached), or NULL. */
const char *tg_elf_func_dem(struct tg_elf_code *c, size_t i);
/* A virtual address's file offset, through the PT_LOAD that maps it, as
 * uprobes want it. 0, -ENOENT when no segment maps ADDR, -ENOEXEC when the
 * program headers cannot be read. */
int tg_elf_vaddr_to_offset(Elf *elf, uint64_t addr, uint64_t *off);
/* LEN bytes at virtual address ADDR. 0 or -errno. */
int tg_elf_read(struct tg_elf_code *c, uint64_t addr, void *buf, size_t len);
/* The pointer stored at ADDR: a relocation's addend in a PIE, else the bytes. */
uint64_t tg_elf_pointer_at(struct tg_elf_code *c, uint64_t addr);
/* The start addresses of functions FUNC calls or jumps to directly, at most
 * MAX, each once. */
size_t tg_elf_call_targets(struct tg_elf_code *c, uint64_t func, uint64_t *out, size_t max);

#endif
