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
 * tail call through a register, is not put back.
 *
 * Every stack frame asks, so each module's function symbols, GOT slots and
 * sections are indexed once (sorted arrays kept with the symbolizer):
 * libdwfl's own symbol lookup scans the whole table each time. */
#include "tail_calls.h"
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CALL_REL32 0xe8
#define CALL_LEN 5
#define CALL_RIP_LEN 6 /* ff 15 disp32: call *disp32(%rip) */
#define MAX_SCAN 65536 /* bytes of a function searched for its jump */

struct func {
	uint64_t lo, hi; /* in the process */
};

struct slot {
	GElf_Addr at, value; /* module-relative: a GOT slot and the function it holds */
};

struct scn {
	GElf_Addr addr, size; /* module-relative */
	const uint8_t *data;
	bool code;
};

struct modix {
	Dwfl_Module *mod;
	GElf_Addr bias;
	struct func *f;
	size_t nf;
	struct slot *s;
	size_t ns;
	struct scn *sc;
	size_t nsc;
};

struct tails {
	struct modix **m; /* each its own allocation: pointers to one stay valid */
	size_t n, cap;
};

/* ---- the per-module index */

static int push(void **v, size_t *n, size_t *cap, const void *x, size_t elem)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		void *p = realloc(*v, c * elem);
		if (!p)
			return -ENOMEM;
		*v = p, *cap = c;
	}
	memcpy((char *)*v + *n * elem, x, elem);
	(*n)++;
	return 0;
}

static int cmp_func(const void *a, const void *b)
{
	const struct func *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

static void index_funcs(struct modix *m)
{
	size_t cap = 0;
	int n = dwfl_module_getsymtab(m->mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		if (!dwfl_module_getsym_info(m->mod, i, &sym, &addr, NULL, NULL, NULL) ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC || !addr)
			continue;
		struct func f = { addr, addr + (sym.st_size ? sym.st_size : 1) };
		if (push((void **)&m->f, &m->nf, &cap, &f, sizeof(f)) < 0)
			break;
	}
	if (m->nf)
		qsort(m->f, m->nf, sizeof(*m->f), cmp_func);
}

/* The function a relocation puts into its slot, module-relative; 0: none
 * the file knows (an undefined symbol, resolved only at run time). */
static GElf_Addr reloc_value(Elf *e, const GElf_Shdr *sh, const GElf_Rela *r)
{
	GElf_Sym sym;
	int type = (int)GELF_R_TYPE(r->r_info);

	if (type == R_X86_64_RELATIVE)
		return (GElf_Addr)r->r_addend;
	if (type != R_X86_64_GLOB_DAT && type != R_X86_64_JUMP_SLOT && type != R_X86_64_64)
		return 0;
	Elf_Data *syms = elf_getdata(elf_getscn(e, sh->sh_link), NULL);
	if (!syms || !gelf_getsym(syms, (int)GELF_R_SYM(r->r_info), &sym) || sym.st_shndx == SHN_UNDEF)
		return 0;
	return sym.st_value + (type == R_X86_64_64 ? (GElf_Addr)r->r_addend : 0);
}

static void index_sections(struct modix *m, Elf *e)
{
	size_t scap = 0, ccap = 0;

	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || !(d = elf_getdata(scn, NULL)))
			continue;
		if (sh.sh_type == SHT_PROGBITS && d->d_buf && d->d_size >= sh.sh_size) {
			struct scn c = { sh.sh_addr, sh.sh_size, d->d_buf, sh.sh_flags & SHF_EXECINSTR };
			push((void **)&m->sc, &m->nsc, &ccap, &c, sizeof(c));
		}
		for (size_t i = 0; sh.sh_type == SHT_RELA && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			struct slot s;
			if (gelf_getrela(d, (int)i, &r) && (s.value = reloc_value(e, &sh, &r))) {
				s.at = r.r_offset;
				push((void **)&m->s, &m->ns, &scap, &s, sizeof(s));
			}
		}
	}
	if (m->ns)
		qsort(m->s, m->ns, sizeof(*m->s), cmp_slot);
}

static void free_modix(struct modix *m)
{
	if (m) {
		free(m->f);
		free(m->s);
		free(m->sc);
	}
	free(m);
}

static void free_tails(void *p)
{
	struct tails *t = p;

	for (size_t i = 0; t && i < t->n; i++)
		free_modix(t->m[i]);
	if (t)
		free(t->m);
	free(t);
}

static struct modix *modix_of(struct tg_symbolizer *sz, Dwfl_Module *mod)
{
	struct tails *t = tg_symbolizer_aux(sz);
	struct modix *m;
	Elf *e;

	if (!mod)
		return NULL;
	if (!t) {
		if (!(t = calloc(1, sizeof(*t))))
			return NULL;
		tg_symbolizer_set_aux(sz, t, free_tails);
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->m[i]->mod == mod)
			return t->m[i];
	if (!(m = calloc(1, sizeof(*m))))
		return NULL;
	m->mod = mod;
	if (!(e = dwfl_module_getelf(mod, &m->bias)) ||
	    push((void **)&t->m, &t->n, &t->cap, &m, sizeof(m)) < 0) {
		free_modix(m);
		return NULL;
	}
	index_funcs(m);
	index_sections(m, e);
	return m;
}

/* ---- lookups */

/* LEN bytes at module-relative VADDR of a section holding code (CODE) or
 * data; NULL when the file has none there. */
static const uint8_t *file_bytes(const struct modix *m, GElf_Addr vaddr, size_t len, bool code)
{
	for (size_t i = 0; i < m->nsc; i++) {
		const struct scn *c = &m->sc[i];
		if (c->code == code && vaddr >= c->addr && vaddr - c->addr + len <= c->size)
			return c->data + (vaddr - c->addr);
	}
	return NULL;
}

/* The function address in the GOT slot at module-relative SLOT, or 0. */
static uint64_t slot_target(const struct modix *m, GElf_Addr slot)
{
	size_t lo = 0, hi = m->ns;
	uint64_t value = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->s[mid].at < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->ns && m->s[lo].at == slot)
		return m->s[lo].value + m->bias;
	/* non-PIE, or relocations applied at link time: the file holds it */
	const uint8_t *v = file_bytes(m, slot, sizeof(value), false);
	if (v)
		memcpy(&value, v, sizeof(value));
	return value ? value + m->bias : 0;
}

/* The start of the function holding ADDR (in the process; *SIZE its size), or 0. */
static uint64_t func_start(const struct modix *m, uint64_t addr, uint64_t *size)
{
	size_t lo = 0, hi = m ? m->nf : 0;

	while (lo < hi) { /* the first function starting after addr */
		size_t mid = (lo + hi) / 2;
		if (m->f[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* aliases share a start with other sizes: look back a little */
	for (size_t i = lo, k = 0; i-- > 0 && k < 8; k++) {
		if (addr < m->f[i].hi) {
			if (size)
				*size = m->f[i].hi - m->f[i].lo;
			return m->f[i].lo;
		}
	}
	return 0;
}

/* The target of a call ending at RA whose target the file says, or 0. */
static uint64_t call_target(const struct modix *m, uint64_t ra)
{
	const uint8_t *c;
	int32_t rel;

	if (ra < m->bias + CALL_RIP_LEN)
		return 0;
	GElf_Addr end = ra - m->bias;
	if ((c = file_bytes(m, end - CALL_LEN, CALL_LEN, true)) && c[0] == CALL_REL32) {
		memcpy(&rel, c + 1, sizeof(rel)); /* little-endian, as the host */
		return ra + (uint64_t)(int64_t)rel;
	}
	if ((c = file_bytes(m, end - CALL_RIP_LEN, CALL_RIP_LEN, true)) && c[0] == 0xff && c[1] == 0x15) {
		memcpy(&rel, c + 2, sizeof(rel));
		return slot_target(m, end + (GElf_Addr)(int64_t)rel);
	}
	return 0;
}

/* Where a jump at module-relative AT with bytes C (AVAIL of them) goes, in
 * the process, or 0: jmp rel32/rel8, jcc rel32, jmp *slot(%rip). */
static uint64_t jump_dest(const struct modix *m, GElf_Addr at, const uint8_t *c, size_t avail)
{
	int32_t rel;

	if (avail >= 5 && c[0] == 0xe9) {
		memcpy(&rel, c + 1, sizeof(rel));
		return at + 5 + (GElf_Addr)(int64_t)rel + m->bias;
	}
	if (avail >= 2 && c[0] == 0xeb)
		return at + 2 + (GElf_Addr)(int64_t)(int8_t)c[1] + m->bias;
	if (avail >= 6 && c[0] == 0x0f && (c[1] & 0xf0) == 0x80) {
		memcpy(&rel, c + 2, sizeof(rel));
		return at + 6 + (GElf_Addr)(int64_t)rel + m->bias;
	}
	if (avail >= 6 && c[0] == 0xff && c[1] == 0x25) {
		memcpy(&rel, c + 2, sizeof(rel));
		return slot_target(m, at + 6 + (GElf_Addr)(int64_t)rel);
	}
	return 0;
}

/* The jump in the function at FN (SIZE bytes) that goes to DEST, or 0: the
 * proof that FN tail-called DEST, and the line a person wants for its frame.
 * A byte scan, not a decoder: the exact destination is what makes a hit. */
static uint64_t jump_site(const struct modix *m, uint64_t fn, uint64_t size, uint64_t dest)
{
	const uint8_t *code = m && size <= MAX_SCAN ? file_bytes(m, fn - m->bias, size, true) : NULL;

	for (uint64_t j = 0; code && dest && j < size; j++)
		if (jump_dest(m, fn - m->bias + j, code + j, size - j) == dest)
			return fn + j;
	return 0;
}

int tg_tail_call_frames(struct tg_symbolizer *sz, uint64_t ra, uint64_t callee, bool callee_ret,
			const char *callee_fn, struct tg_frame *out, int max)
{
	Dwfl *dwfl = tg_symbolizer_dwfl(sz);
	const struct modix *m = dwfl && ra && max > 0 ? modix_of(sz, dwfl_addrmodule(dwfl, ra)) : NULL;
	uint64_t target = m ? call_target(m, ra) : 0, size = 0;
	const struct modix *tm = target ? modix_of(sz, dwfl_addrmodule(dwfl, target)) : NULL;

	if (!tm || func_start(tm, target, &size) != target)
		return 0;
	uint64_t at = callee_ret && callee ? callee - 1 : callee;
	uint64_t below = func_start(modix_of(sz, dwfl_addrmodule(dwfl, at)), at, NULL);
	/* without a jump to the frame below, frames were lost some other way (a
	 * walk that skipped one): nothing says which */
	uint64_t site = below && below != target ? jump_site(tm, target, size, below) : 0;
	int n = site ? tg_symbolize(sz, site, false, out, max) : 0;

	/* a name, and not the one of the frame below (a .cold part, an alias) */
	if (n < 1 || !out[n - 1].function || out[n - 1].function[0] == '[' ||
	    (callee_fn && strcmp(callee_fn, out[n - 1].function) == 0))
		return 0;
	for (int i = 0; i < n; i++)
		out[i].tail_call = true;
	return n;
}
