// SPDX-License-Identifier: MIT
/* Tokio's task Vtable, in declaration order (unchanged through tokio 1.54):
 * poll, schedule, dealloc, try_read_output, drop_join_handle_slow,
 * drop_abort_handle, shutdown (code pointers), then trailer_offset,
 * scheduler_offset and id_offset (byte offsets into the repr(C) Cell: the
 * scheduler follows the Header, the task id the scheduler, the trailer
 * everything). Nothing else in .data.rel.ro has seven code pointers followed
 * by three offsets ordered so. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vtable_sites.h"

#define NPTRS 7
#define HEADER_MIN 24          /* state, queue_next, vtable: the Header is at least this */
#define CELL_MAX (1u << 20)    /* a task cell holds the future inline: large, not unbounded */
#define UNREACHABLE "internal error: entered unreachable code"
#define HEAD_BYTES 24          /* of a function: its prologue and first instructions */
#define BLOCKING_S "tokio::runtime::blocking::schedule::BlockingSchedule"

struct range {
	uint64_t lo, hi;
};

static bool in(const struct range *r, uint64_t a)
{
	return a >= r->lo && a < r->hi;
}

/* Section NAME's virtual address range ({0, 0} when absent) and its data. */
static struct range section(const struct tg_elf_code *c, const char *name, Elf_Data **data)
{
	struct range r = { 0, 0 };
	GElf_Shdr sh;
	Elf_Data *d = tg_elf_section_hdr(c, name, SHT_PROGBITS, &sh);

	if (d && sh.sh_addr) {
		r.lo = sh.sh_addr;
		r.hi = sh.sh_addr + sh.sh_size;
	}
	if (data)
		*data = d;
	return r;
}

static bool read_word(struct tg_elf_code *c, uint64_t addr, uint64_t *w)
{
	return tg_elf_read(c, addr, w, sizeof(*w)) == 0;
}

/* A vtable at ADDR: its poll slot in *POLL and its schedule slot in *SCHED. */
static bool vtable_at(struct tg_elf_code *c, const struct range *text, uint64_t addr, uint64_t *poll,
		      uint64_t *sched)
{
	uint64_t p[NPTRS], trailer, scheduler, id;

	for (int i = 0; i < NPTRS; i++) {
		p[i] = tg_elf_pointer_at(c, addr + 8u * (unsigned)i);
		if (!in(text, p[i]))
			return false;
	}
	if (!read_word(c, addr + 8 * NPTRS, &trailer) || !read_word(c, addr + 8 * NPTRS + 8, &scheduler) ||
	    !read_word(c, addr + 8 * NPTRS + 16, &id))
		return false;
	if (scheduler < HEADER_MIN || id <= scheduler || trailer <= id || trailer > CELL_MAX ||
	    scheduler % 8 || id % 8 || trailer % 8 || p[0] == p[1])
		return false;
	*poll = p[0];
	*sched = p[1];
	return true;
}

/* Where STR's copies lie in .rodata, at most MAX of them: Rust strings are
 * not NUL-terminated, so a message is often the head of a longer one, and
 * the one a function loads may be any copy. */
#define MAX_COPIES 64
struct strs {
	uint64_t at[MAX_COPIES];
	size_t n;
};

static void rodata_strings(const struct range *ro, const Elf_Data *d, const char *str, struct strs *out)
{
	const char *p = d && ro->hi ? d->d_buf : NULL, *end = p ? p + d->d_size : NULL;
	size_t len = strlen(str);

	out->n = 0;
	while (p && out->n < MAX_COPIES && (p = memmem(p, (size_t)(end - p), str, len))) {
		out->at[out->n++] = ro->lo + (uint64_t)(p - (const char *)d->d_buf);
		p += len;
	}
}

static bool one_of(const struct strs *s, uint64_t a)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->at[i] == a)
			return true;
	return false;
}

/* Whether FN starts with unreachable!()'s panic: `lea STR(%rip), %rdi`
 * (one of STRS' copies) and the length, 40, into %esi, right after the
 * prologue. */
static bool panics_unreachable(struct tg_elf_code *c, uint64_t fn, const struct strs *strs)
{
	unsigned char code[HEAD_BYTES + 16];

	if (!strs->n || tg_elf_read(c, fn, code, sizeof(code)))
		return false;
	for (size_t i = 0; i < HEAD_BYTES; i++) {
		int32_t disp;

		if (code[i] != 0x48 || code[i + 1] != 0x8d || code[i + 2] != 0x3d)
			continue;
		memcpy(&disp, code + i + 3, sizeof(disp));
		if (!one_of(strs, fn + i + 7 + (uint64_t)(int64_t)disp))
			continue;
		for (size_t j = i + 7; j + 5 <= sizeof(code); j++) /* mov $40, %esi */
			if (code[j] == 0xbe && code[j + 1] == 40 && !code[j + 2] && !code[j + 3] && !code[j + 4])
				return true;
	}
	return false;
}

/* The first call or jump in FN's head, direct (rel32) or through the GOT
 * (what Rust emits for functions it exports): raw::schedule<S> forwards to
 * S's schedule so. 0 when there is none. Without symbols there is no
 * function size: only the head is read. */
static uint64_t first_transfer(struct tg_elf_code *c, uint64_t fn)
{
	unsigned char code[HEAD_BYTES + 6];
	int32_t rel;

	if (tg_elf_read(c, fn, code, sizeof(code)))
		return 0;
	for (size_t i = 0; i < HEAD_BYTES; i++) {
		if (code[i] == 0xe8 || code[i] == 0xe9) {
			memcpy(&rel, code + i + 1, sizeof(rel));
			return fn + i + 5 + (uint64_t)(int64_t)rel;
		}
		if (code[i] == 0xff && (code[i + 1] == 0x15 || code[i + 1] == 0x25)) {
			memcpy(&rel, code + i + 2, sizeof(rel));
			return tg_elf_pointer_at(c, fn + i + 6 + (uint64_t)(int64_t)rel);
		}
	}
	return 0;
}

/* BlockingSchedule's schedule is unreachable!(): in raw::schedule<S> itself
 * where it was inlined, else in the function that forwards to. */
static bool blocking_schedule(struct tg_elf_code *c, const struct range *text, uint64_t sched,
			      const struct strs *strs)
{
	uint64_t to = first_transfer(c, sched);

	return panics_unreachable(c, sched, strs) || (in(text, to) && panics_unreachable(c, to, strs));
}

static int add_vtable_site(struct tg_elf_code *c, struct tg_poll_sites *out, uint64_t poll, bool blocking)
{
	struct tg_poll_site *site;
	int r;

	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].addr == poll)
			return 0;
	if ((r = tg_poll_site_new(out, c, poll, &site)) || !site)
		return r;
	site->named_by = "vtable";
	if (blocking && !(site->scheduler = strdup(BLOCKING_S)))
		return -ENOMEM;
	out->n++;
	return 1;
}

int tg_find_vtable_sites(struct tg_elf_code *c, struct tg_poll_sites *out)
{
	Elf_Data *rodata;
	struct range text = section(c, ".text", NULL), data = section(c, ".data.rel.ro", NULL),
		     ro = section(c, ".rodata", &rodata);
	struct strs unreachable;
	int added = 0;

	rodata_strings(&ro, rodata, UNREACHABLE, &unreachable);
	if (!text.hi || !data.hi)
		return 0;
	for (uint64_t a = (data.lo + 7) & ~7ull; a + 8 * (NPTRS + 3) <= data.hi; a += 8) {
		uint64_t poll, sched;
		int r;

		if (!vtable_at(c, &text, a, &poll, &sched))
			continue;
		r = add_vtable_site(c, out, poll, blocking_schedule(c, &text, sched, &unreachable));
		if (r < 0)
			return r;
		added += r;
		a += 8 * (NPTRS + 2); /* past this vtable */
	}
	return added;
}
