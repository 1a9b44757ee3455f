/* Tail-call frames from the caller's call instruction (x86-64).
 *
 * A tail call (`jmp` instead of `call` + `ret`) removes the caller of the
 * jump from every stack walk, frame-pointer or CFI: the frame below it
 * returns straight to its caller's caller. That caller's return address
 * follows the `call` that entered the hidden function; when its target is
 * known from the file, that is the hidden function: a direct `call rel32`
 * (E8, also `addr32 call`, a linker-relaxed GOT call), or `call *slot(%rip)`
 * (FF 15) through a GOT slot the file itself fills. rustc calls other crates'
 * functions through the GOT and rust-lld leaves them so, with the slot 0 in
 * the file and its R_X86_64_RELATIVE relocation holding the address. Only
 * targets that are the exact start of a function symbol count: PLT stubs and
 * thunks have none, and stray opcode bytes inside a longer instruction almost
 * never point at one. And the target must hold a jump (jmp, jcc, jmp through
 * the GOT) to the start of the frame below: a chain of two tail calls, or a
 * tail call through a register, is not put back. */
#include "tail_calls.h"
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CALL_REL32 0xe8
#define CALL_LEN 5
#define CALL_RIP_LEN 6 /* ff 15 disp32: call *disp32(%rip) */

/* LEN bytes at module-relative address VADDR, from a section of the
 * module's ELF file holding code (CODE) or data. */
static bool file_bytes(Elf *e, GElf_Addr vaddr, uint8_t *buf, size_t len, bool code)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    !(sh.sh_flags & SHF_EXECINSTR) != !code || vaddr < sh.sh_addr ||
		    vaddr + len > sh.sh_addr + sh.sh_size)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		GElf_Addr at = vaddr - sh.sh_addr;
		if (!d || !d->d_buf || at + len > d->d_size)
			return false;
		memcpy(buf, (const uint8_t *)d->d_buf + at, len);
		return true;
	}
	return false;
}

/* What the dynamic relocations put into the GOT slot at module-relative
 * SLOT: a relative address, or a function the module defines. 0: unknown
 * (an undefined symbol, resolved only at run time). */
static GElf_Addr reloc_value(Elf *e, GElf_Addr slot)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC) ||
		    !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym sym;
			if (!gelf_getrela(d, (int)i, &r) || r.r_offset != slot)
				continue;
			if (GELF_R_TYPE(r.r_info) == R_X86_64_RELATIVE)
				return (GElf_Addr)r.r_addend;
			Elf_Data *syms = elf_getdata(elf_getscn(e, sh.sh_link), NULL);
			bool glob = GELF_R_TYPE(r.r_info) == R_X86_64_GLOB_DAT ||
				    GELF_R_TYPE(r.r_info) == R_X86_64_JUMP_SLOT;
			if (glob && syms && gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) &&
			    sym.st_shndx != SHN_UNDEF)
				return sym.st_value;
			return 0;
		}
	}
	return 0;
}

/* The function address in the GOT slot at module-relative SLOT, or 0. */
static uint64_t slot_target(Elf *e, GElf_Addr bias, GElf_Addr slot)
{
	uint8_t v[8];
	uint64_t value = 0;

	/* non-PIE, or relocations applied at link time: the file holds it */
	if (file_bytes(e, slot, v, sizeof(v), false))
		memcpy(&value, v, sizeof(value));
	if (!value)
		value = reloc_value(e, slot);
	return value ? value + bias : 0;
}

/* The target of a call ending at RA whose target the file says, or 0. */
static uint64_t call_target(Dwfl_Module *mod, uint64_t ra)
{
	GElf_Addr bias = 0;
	Elf *e = dwfl_module_getelf(mod, &bias);
	uint8_t insn[CALL_RIP_LEN];
	int32_t rel;

	if (!e || ra < bias + CALL_RIP_LEN)
		return 0;
	GElf_Addr end = ra - bias;
	if (file_bytes(e, end - CALL_LEN, insn, CALL_LEN, true) && insn[0] == CALL_REL32) {
		memcpy(&rel, insn + 1, sizeof(rel)); /* little-endian, as the host */
		return ra + (uint64_t)(int64_t)rel;
	}
	if (file_bytes(e, end - CALL_RIP_LEN, insn, CALL_RIP_LEN, true) && insn[0] == 0xff &&
	    insn[1] == 0x15) {
		memcpy(&rel, insn + 2, sizeof(rel));
		return slot_target(e, bias, end + (GElf_Addr)(int64_t)rel);
	}
	return 0;
}

/* The start of the function symbol holding ADDR (and its size), or 0. */
static uint64_t symbol_start(Dwfl *dwfl, uint64_t addr, uint64_t *size)
{
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
	GElf_Off off = 0;
	GElf_Sym sym;

	if (!mod || !dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL) ||
	    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
		return 0;
	if (size)
		*size = sym.st_size;
	return addr - off;
}

/* Where a jump at module-relative address AT with bytes C (AVAIL of them)
 * goes, or 0: jmp rel32/rel8, jcc rel32, jmp *slot(%rip). */
static uint64_t jump_dest(Elf *e, GElf_Addr bias, GElf_Addr at, const uint8_t *c, size_t avail)
{
	int32_t rel;

	if (avail >= 5 && c[0] == 0xe9) {
		memcpy(&rel, c + 1, sizeof(rel));
		return at + 5 + (GElf_Addr)(int64_t)rel + bias;
	}
	if (avail >= 2 && c[0] == 0xeb)
		return at + 2 + (GElf_Addr)(int64_t)(int8_t)c[1] + bias;
	if (avail >= 6 && c[0] == 0x0f && (c[1] & 0xf0) == 0x80) {
		memcpy(&rel, c + 2, sizeof(rel));
		return at + 6 + (GElf_Addr)(int64_t)rel + bias;
	}
	if (avail >= 6 && c[0] == 0xff && c[1] == 0x25) {
		memcpy(&rel, c + 2, sizeof(rel));
		return slot_target(e, bias, at + 6 + (GElf_Addr)(int64_t)rel);
	}
	return 0;
}

#define MAX_SCAN 65536

/* The jump in the function at FN (SIZE bytes) that goes to DEST, or 0: the
 * proof that FN tail-called DEST, and the line a person wants for its frame.
 * A byte scan, not a decoder: the exact destination is what makes a hit. */
static uint64_t jump_site(Dwfl_Module *mod, uint64_t fn, uint64_t size, uint64_t dest)
{
	GElf_Addr bias = 0;
	Elf *e = mod ? dwfl_module_getelf(mod, &bias) : NULL;
	uint8_t *code = size && size <= MAX_SCAN && dest ? malloc(size) : NULL;
	uint64_t site = 0;

	if (code && e && file_bytes(e, fn - bias, code, size, true))
		for (uint64_t j = 0; j < size && !site; j++)
			if (jump_dest(e, bias, fn - bias + j, code + j, size - j) == dest)
				site = fn + j;
	free(code);
	return site;
}

int tg_tail_call_frames(struct tg_symbolizer *sz, uint64_t ra, uint64_t callee, bool callee_ret,
			const char *callee_fn, struct tg_frame *out, int max)
{
	Dwfl *dwfl = tg_symbolizer_dwfl(sz);
	Dwfl_Module *mod = dwfl && ra ? dwfl_addrmodule(dwfl, ra) : NULL;
	uint64_t target = mod ? call_target(mod, ra) : 0, size = 0;
	uint64_t below = target ? symbol_start(dwfl, callee_ret && callee ? callee - 1 : callee, NULL) : 0;

	if (!target || max < 1 || symbol_start(dwfl, target, &size) != target || below == target)
		return 0;
	/* without a jump to the frame below, frames were lost some other way (a
	 * walk that skipped one): nothing says which */
	uint64_t site = jump_site(dwfl_addrmodule(dwfl, target), target, size, below);
	int n = site ? tg_symbolize(sz, site, false, out, max) : 0;
	/* a name, and not the one of the frame below (a .cold part, an alias) */
	if (n < 1 || !out[n - 1].function || out[n - 1].function[0] == '[' ||
	    (callee_fn && strcmp(callee_fn, out[n - 1].function) == 0))
		return 0;
	for (int i = 0; i < n; i++)
		out[i].tail_call = true;
	return n;
}
