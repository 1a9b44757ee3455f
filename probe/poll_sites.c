// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Poll-site discovery. Each raw::poll<T, S> instance is found by its symbol
 * (legacy or v0 mangling, possibly with a .llvm.N suffix, possibly local) and
 * identified by address. T and S are named, best source first:
 *   1. DWARF: the subprogram's name is "poll<T, S>" with full paths;
 *   2. a v0 symbol carries <T, S> itself;
 *   3. without either, the vtable: its dealloc slot points to
 *      raw::dealloc<T, S>, which calls drop_in_place<Cell<T, S>>, a legacy
 *      name that still spells T and S. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "poll_sites.h"
#include "poll_probe.h"
#include "names.h"

#define RAW_POLL "tokio::runtime::task::raw::poll"
#define CELL_DROP "core::ptr::drop_in_place<tokio::runtime::task::core::Cell<"

struct func_sym;

struct elf_file {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	Elf_Scn *symtab;    /* .symtab, else .dynsym */
	size_t nsyms;
	GElf_Shdr symtab_shdr;
	struct func_sym *funcs; /* built on demand */
	size_t nfuncs;
};

/* ---- ELF helpers */

static int elf_file_open(const char *path, struct elf_file *f, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	Elf_Scn *dynsym = NULL;
	GElf_Shdr sh;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	elf_version(EV_CURRENT);
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &f->ehdr)) {
		snprintf(err, errlen, "%s is not an ELF executable", path);
		return -ENOEXEC;
	}
	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			f->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			dynsym = scn;
	}
	if (!f->symtab)
		f->symtab = dynsym;
	if (f->symtab) {
		gelf_getshdr(f->symtab, &f->symtab_shdr);
		f->nsyms = f->symtab_shdr.sh_entsize ? f->symtab_shdr.sh_size / f->symtab_shdr.sh_entsize : 0;
	}
	return 0;
}

static void elf_file_close(struct elf_file *f)
{
	free(f->funcs);
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
}

/* Virtual address to file offset, through the PT_LOAD that maps it. */
static int vaddr_to_offset(struct elf_file *f, uint64_t addr, uint64_t *off)
{
	size_t n, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(f->elf, &n))
		return -ENOEXEC;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(f->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_filesz) {
			*off = addr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

/* Reads LEN bytes at virtual address ADDR from the file image. */
static int read_vaddr(struct elf_file *f, uint64_t addr, void *buf, size_t len)
{
	uint64_t off;

	if (vaddr_to_offset(f, addr, &off))
		return -ENOENT;
	if (pread(f->fd, buf, len, (off_t)off) != (ssize_t)len)
		return -EIO;
	return 0;
}

static const char *sym_name(struct elf_file *f, GElf_Sym *s)
{
	return elf_strptr(f->elf, f->symtab_shdr.sh_link, s->st_name);
}

struct func_sym { uint64_t addr, size; const char *name; };

static int func_sym_cmp(const void *a, const void *b)
{
	const struct func_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Function symbols sorted by address, built once: the vtable fallback looks
 * up every call target of every dealloc instance. */
static int build_func_index(struct elf_file *f)
{
	Elf_Data *d = f->symtab ? elf_getdata(f->symtab, NULL) : NULL;
	GElf_Sym s;

	f->funcs = calloc(f->nsyms ? f->nsyms : 1, sizeof(*f->funcs));
	if (!f->funcs)
		return -ENOMEM;
	for (size_t i = 0; d && i < f->nsyms; i++) {
		if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value)
			continue;
		f->funcs[f->nfuncs++] = (struct func_sym){ s.st_value, s.st_size, sym_name(f, &s) };
	}
	qsort(f->funcs, f->nfuncs, sizeof(*f->funcs), func_sym_cmp);
	return 0;
}

/* The function symbol starting at ADDR, or NULL. */
static const char *func_at(struct elf_file *f, uint64_t addr, uint64_t *size)
{
	struct func_sym key = { addr, 0, NULL }, *hit;

	hit = f->funcs ? bsearch(&key, f->funcs, f->nfuncs, sizeof(key), func_sym_cmp) : NULL;
	if (!hit)
		return NULL;
	if (size)
		*size = hit->size;
	return hit->name;
}

/* ---- candidates from the symbol table */

static bool is_raw_poll(const char *mangled, char **demangled)
{
	char *d;

	/* Cheap filter first: both manglings spell the path as "3raw4poll". */
	if (!strstr(mangled, "3raw4poll"))
		return false;
	d = tg_demangle(mangled);
	if (d && (strcmp(d, RAW_POLL) == 0 || strncmp(d, RAW_POLL "::<", strlen(RAW_POLL) + 3) == 0)) {
		*demangled = d;
		return true;
	}
	free(d);
	return false;
}

static bool have_addr(const struct tg_poll_sites *out, uint64_t addr)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].addr == addr)
			return true;
	return false;
}

static int add_site(struct tg_poll_sites *out, struct elf_file *f, GElf_Sym *s,
		    const char *mangled, char *demangled)
{
	struct tg_poll_site *site, *v;

	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->v = v;
	site = &v[out->n];
	memset(site, 0, sizeof(*site));
	site->addr = s->st_value;
	if (vaddr_to_offset(f, site->addr, &site->offset))
		return 0; /* not in a loaded segment: cannot be probed */
	site->symbol = strdup(mangled);
	site->named_by = "none";
	/* A v0 name already spells the generic arguments. */
	if (strncmp(demangled, RAW_POLL "::<", strlen(RAW_POLL) + 3) == 0 &&
	    tg_split_generic_pair(demangled + strlen(RAW_POLL "::"), &site->future_type,
				  &site->scheduler) == 0)
		site->named_by = "symbol";
	out->n++;
	return 0;
}

static int collect_sites(struct elf_file *f, struct tg_poll_sites *out)
{
	Elf_Data *d = f->symtab ? elf_getdata(f->symtab, NULL) : NULL;
	GElf_Sym s;
	size_t i;
	int r;

	for (i = 0; d && i < f->nsyms; i++) {
		const char *name;
		char *dem = NULL;

		if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_shndx == SHN_UNDEF || s.st_value == 0)
			continue;
		name = sym_name(f, &s);
		if (!name || !is_raw_poll(name, &dem))
			continue;
		r = have_addr(out, s.st_value) ? 0 : add_site(out, f, &s, name, dem);
		free(dem);
		if (r)
			return r;
	}
	return 0;
}

/* ---- naming from DWARF */

/* "/usr/share/cargo/registry/tokio-1.24.2/src/runtime/task/raw.rs" -> "1.24.2" */
static void tokio_version_from_path(const char *path, char *buf, size_t len)
{
	const char *p = path ? strstr(path, "/tokio-") : NULL;
	size_t n;

	if (!p || buf[0])
		return;
	p += strlen("/tokio-");
	n = strspn(p, "0123456789.");
	if (n == 0 || n >= len || p[n] != '/')
		return;
	memcpy(buf, p, n);
	buf[n] = 0;
}

static bool name_from_dwarf_die(Dwarf_Die *die, struct tg_poll_site *site, struct tg_poll_sites *out)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	char *t = NULL, *s = NULL;

	if (!name || strncmp(name, "poll<", 5) != 0 || tg_split_generic_pair(name, &t, &s))
		return false;
	tokio_version_from_path(dwarf_decl_file(die), out->tokio_version, sizeof(out->tokio_version));
	free(site->future_type);
	free(site->scheduler);
	site->future_type = t;
	site->scheduler = s;
	site->named_by = "dwarf";
	return true;
}

static struct tg_poll_site *site_at(struct tg_poll_sites *out, Dwarf_Addr addr)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].addr == addr)
			return &out->v[i];
	return NULL;
}

/* Walks a CU's DIE tree (namespaces included: Rust nests functions in them,
 * and dwarf_getscopes does not look inside) naming every site it defines. */
static void walk_dies(Dwarf_Die *die, struct tg_poll_sites *out, int depth)
{
	Dwarf_Die child;
	Dwarf_Addr lo;

	do {
		int tag = dwarf_tag(die);
		struct tg_poll_site *site;

		if (tag == DW_TAG_subprogram && dwarf_lowpc(die, &lo) == 0 &&
		    (site = site_at(out, lo)) && strcmp(site->named_by, "dwarf") != 0)
			name_from_dwarf_die(die, site, out);
		if ((tag == DW_TAG_namespace || tag == DW_TAG_structure_type ||
		     tag == DW_TAG_compile_unit) && depth < 64 && dwarf_child(die, &child) == 0)
			walk_dies(&child, out, depth + 1);
	} while (dwarf_siblingof(die, die) == 0);
}

/* Only the CUs that hold a site are walked, each once. */
static void name_sites_in_cus(Dwarf *dw, struct tg_poll_sites *out)
{
	Dwarf_Off *done = calloc(out->n ? out->n : 1, sizeof(*done));
	size_t ndone = 0;

	for (size_t i = 0; done && i < out->n; i++) {
		Dwarf_Die cu;
		Dwarf_Off off;
		size_t j;

		if (!dwarf_addrdie(dw, out->v[i].addr, &cu))
			continue;
		off = dwarf_dieoffset(&cu);
		for (j = 0; j < ndone && done[j] != off; j++)
			;
		if (j < ndone)
			continue;
		done[ndone++] = off;
		walk_dies(&cu, out, 0);
	}
	free(done);
}

static void name_sites_dwarf(const char *exe, struct tg_poll_sites *out)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	Dwfl *dwfl = dwfl_begin(&cb);
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	Dwarf *dw;

	if (!dwfl)
		return;
	mod = dwfl_report_offline(dwfl, "target", exe, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	dw = mod ? dwfl_module_getdwarf(mod, &bias) : NULL;
	if (dw) {
		out->has_dwarf = true;
		name_sites_in_cus(dw, out);
	}
	dwfl_end(dwfl);
}

/* ---- naming from the vtable (no DWARF, legacy symbols) */

struct rel { uint64_t off, addend; };

static int rel_cmp(const void *a, const void *b)
{
	const struct rel *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* R_X86_64_RELATIVE relocations, sorted by offset: in a PIE the vtables'
 * function pointers exist only as these addends. */
static struct rel *relative_relocs(struct elf_file *f, size_t *n)
{
	Elf_Scn *scn = NULL;
	struct rel *v = NULL;
	GElf_Shdr sh;
	GElf_Rela ra;

	*n = 0;
	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *d;
		size_t cnt, i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		cnt = sh.sh_size / sh.sh_entsize;
		for (i = 0; d && i < cnt; i++) {
			struct rel *nv;

			if (!gelf_getrela(d, (int)i, &ra) || GELF_R_TYPE(ra.r_info) != R_X86_64_RELATIVE)
				continue;
			nv = realloc(v, (*n + 1) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			v[(*n)++] = (struct rel){ (uint64_t)ra.r_offset, (uint64_t)ra.r_addend };
		}
	}
	if (v)
		qsort(v, *n, sizeof(*v), rel_cmp);
	return v;
}

/* The pointer stored at vtable slot ADDR: a relocation addend in a PIE, the
 * file's bytes otherwise. */
static uint64_t pointer_at(struct elf_file *f, const struct rel *rels, size_t nrels, uint64_t addr)
{
	struct rel key = { addr, 0 }, *hit;
	uint64_t v = 0;

	hit = rels ? bsearch(&key, rels, nrels, sizeof(*rels), rel_cmp) : NULL;
	if (hit)
		return hit->addend;
	if (read_vaddr(f, addr, &v, sizeof(v)))
		return 0;
	return v;
}

/* The vtable is the place that holds the poll function's address. */
static uint64_t find_vtable(struct elf_file *f, const struct rel *rels, size_t nrels, uint64_t poll)
{
	for (size_t i = 0; i < nrels; i++)
		if (rels[i].addend == poll)
			return rels[i].off;
	return 0; /* non-PIE binaries: not searched; DWARF or v0 names cover them */
}

/* Scans dealloc<T, S> for a call or tail jump to drop_in_place<Cell<T, S>>. */
static char *cell_drop_name(struct elf_file *f, uint64_t func)
{
	uint64_t size = 0;
	unsigned char code[512];
	size_t len, i;

	if (!func_at(f, func, &size) || size == 0)
		return NULL;
	len = size < sizeof(code) ? size : sizeof(code);
	if (read_vaddr(f, func, code, len))
		return NULL;
	for (i = 0; i + 5 <= len; i++) {
		int32_t rel;
		const char *name;
		char *dem;

		if (code[i] != 0xe8 && code[i] != 0xe9)
			continue;
		memcpy(&rel, code + i + 1, 4);
		name = func_at(f, func + i + 5 + (int64_t)rel, NULL);
		if (!name)
			continue;
		dem = tg_demangle(name);
		if (dem && strncmp(dem, CELL_DROP, strlen(CELL_DROP)) == 0)
			return dem;
		free(dem);
	}
	return NULL;
}

static void name_site_vtable(struct elf_file *f, const struct rel *rels, size_t nrels,
			     struct tg_poll_site *site)
{
	uint64_t vt = find_vtable(f, rels, nrels, site->addr);
	char *drop, *cell;
	size_t len;

	if (!vt)
		return;
	drop = cell_drop_name(f, pointer_at(f, rels, nrels, vt + 2 * sizeof(uint64_t)));
	if (!drop)
		return;
	/* "core::ptr::drop_in_place<tokio::runtime::task::core::Cell<T, S>>" */
	cell = drop + strlen(CELL_DROP) - strlen("Cell<");
	len = strlen(cell);
	if (len > 0 && cell[len - 1] == '>')
		cell[len - 1] = 0;
	if (tg_split_generic_pair(cell, &site->future_type, &site->scheduler) == 0)
		site->named_by = "drop_in_place";
	free(drop);
}

static void name_sites_vtable(struct elf_file *f, struct tg_poll_sites *out)
{
	struct rel *rels = NULL;
	size_t nrels = 0;

	for (size_t i = 0; i < out->n; i++) {
		if (out->v[i].future_type)
			continue;
		if (!rels) {
			rels = relative_relocs(f, &nrels);
			if (!f->funcs && build_func_index(f))
				break;
		}
		name_site_vtable(f, rels, nrels, &out->v[i]);
	}
	free(rels);
}

/* ---- classification */

static void finish_site(struct tg_poll_site *site)
{
	char buf[64];

	if (site->future_type) {
		site->task_name = tg_simplify_task_name(site->future_type);
	} else {
		snprintf(buf, sizeof(buf), "tokio::task@%#llx", (unsigned long long)site->addr);
		site->task_name = strdup(buf);
	}
	site->kind = TG_SITE_RUNTIME;
	if ((site->scheduler && tg_is_blocking_schedule(site->scheduler)) ||
	    (site->future_type && strstr(site->future_type, "::blocking::task::BlockingTask<")))
		site->kind = TG_SITE_BLOCKING;
}

int tg_find_poll_sites(const char *exe, struct tg_poll_sites *out, char *err, size_t errlen)
{
	struct elf_file f;
	int r;

	memset(out, 0, sizeof(*out));
	r = elf_file_open(exe, &f, err, errlen);
	if (r)
		goto done;
	out->has_symtab = f.symtab && f.symtab_shdr.sh_type == SHT_SYMTAB;
	r = collect_sites(&f, out);
	if (r) {
		snprintf(err, errlen, "reading symbols of %s: %s", exe, strerror(-r));
		goto done;
	}
	if (out->n == 0) {
		snprintf(err, errlen, out->has_symtab ?
			 "%s has no tokio::runtime::task::raw::poll instances: not a Tokio binary?" :
			 "%s has no symbol table: build it without stripping (profile strip = false)", exe);
		r = -ENOENT;
		goto done;
	}
	name_sites_dwarf(exe, out);
	name_sites_vtable(&f, out);
	for (size_t i = 0; i < out->n; i++)
		finish_site(&out->v[i]);
done:
	elf_file_close(&f);
	if (r)
		tg_poll_sites_free(out);
	return r;
}

void tg_poll_sites_free(struct tg_poll_sites *sites)
{
	for (size_t i = 0; i < sites->n; i++) {
		free(sites->v[i].symbol);
		free(sites->v[i].future_type);
		free(sites->v[i].scheduler);
		free(sites->v[i].task_name);
	}
	free(sites->v);
	sites->v = NULL;
	sites->n = 0;
}
