// SPDX-License-Identifier: MIT
/* Poll-site discovery. Each raw::poll<T, S> instance is found by its symbol
 * (legacy or v0 mangling, possibly with a .llvm.N suffix, possibly local) and
 * identified by address. T and S are named, best source first:
 *   1. DWARF: the subprogram's name is "poll<T, S>" with full paths;
 *   2. a v0 symbol carries <T, S> itself;
 *   3. without either, the vtable: its schedule slot forwards to S's
 *      Schedule impl (names S), and its dealloc slot (or another) calls
 *      drop_in_place<Cell<T, S>>, a legacy name that still spells T and S.
 *      Identical drop glue of same-layout futures is merged into one
 *      function with an alias per type: then the task is named "A|B".
 * DWARF's names for impl blocks ({impl#N}) are replaced by the type (and
 * trait) the symbols spell, read from a linkage name inside that impl, else
 * picked among the vtable's drop glue names (named_by "dwarf+drop_in_place"),
 * so that the task name (names.c) is the same in every build.
 *
 * This file: candidates from the symbol table, naming from DWARF and the
 * classification; naming from the vtable is vtable_names.c. */
#define _GNU_SOURCE /* memmem */
#include "poll_sites_parts.h"
#include "vtable_sites.h"
#include "block_on_sites.h"
#include "poll_probe.h"
#include "names.h"

#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#define RAW_POLL "tokio::runtime::task::raw::poll"
#define CELL_DROP "core::ptr::drop_in_place<tokio::runtime::task::core::Cell<"

/* The demangled name of funcs[i] when the fallback may need it (drop glue, a
 * Schedule impl, a future's poll: same words in both manglings), else NULL.
 * The filter keeps the vtable walk from demangling every callee it meets. */
const char *func_dem(struct tg_elf_code *c, size_t i)
{
	const char *name = c->funcs[i].name;

	if (!name || !(strstr(name, "drop_in_place") || strstr(name, "Schedule") ||
		       strstr(name, "closure") || strstr(name, "Future")))
		return NULL;
	return tg_elf_func_dem(c, i);
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

int tg_poll_site_new(struct tg_poll_sites *out, struct tg_elf_code *c, uint64_t addr,
		     struct tg_poll_site **site)
{
	struct tg_poll_site *v;

	*site = NULL;
	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->v = v;
	memset(&v[out->n], 0, sizeof(*v));
	v[out->n].addr = addr;
	if (tg_elf_vaddr_to_offset(c->elf, addr, &v[out->n].offset))
		return 0; /* not in a loaded segment: cannot be probed */
	*site = &v[out->n];
	return 0;
}

static int add_site(struct tg_poll_sites *out, struct tg_elf_code *c, GElf_Sym *s,
		    const char *mangled, char *demangled)
{
	struct tg_poll_site *site;
	int r = tg_poll_site_new(out, c, s->st_value, &site);

	if (r || !site)
		return r;
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

static int collect_sites(struct tg_elf_code *c, struct tg_poll_sites *out)
{
	Elf_Data *d = c->symtab ? elf_getdata(c->symtab, NULL) : NULL;
	GElf_Sym s;
	size_t i;
	int r;

	for (i = 0; d && i < c->nsyms; i++) {
		const char *name;
		char *dem = NULL;

		if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_shndx == SHN_UNDEF || s.st_value == 0)
			continue;
		name = tg_elf_sym_name(c, &s);
		if (!name || !is_raw_poll(name, &dem))
			continue;
		r = have_addr(out, s.st_value) ? 0 : add_site(out, c, &s, name, dem);
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

/* The version in the first ".../tokio-1.x.y/src/" of BUF (LEN bytes, not
 * NUL-terminated: Rust's panic Location strings are not), or "". */
void tg_tokio_version_in(const char *buf, size_t len, char *out, size_t outlen)
{
	static const char pre[] = "/tokio-1.";
	const char *p = buf, *end = buf + len;

	out[0] = 0;
	while (p && (p = memmem(p, (size_t)(end - p), pre, sizeof(pre) - 1))) {
		const char *v = p + 7; /* "1." onwards */
		size_t n = 0;

		while (v + n < end && ((v[n] >= '0' && v[n] <= '9') || v[n] == '.'))
			n++;
		p += sizeof(pre) - 1;
		if (n < 3 || n >= outlen || v[n - 1] == '.' || end - (v + n) < 5 || memcmp(v + n, "/src/", 5))
			continue;
		memcpy(out, v, n);
		out[n] = 0;
		return;
	}
}

/* Without DWARF's decl_file paths (line-tables-only, debuginfo stripped):
 * panic locations keep Tokio's source path in .rodata in every build. */
static void tokio_version_from_rodata(const struct tg_elf_code *c, struct tg_poll_sites *out)
{
	Elf_Data *d = out->tokio_version[0] ? NULL : tg_elf_section(c, ".rodata", SHT_PROGBITS);

	if (d && d->d_buf)
		tg_tokio_version_in(d->d_buf, d->d_size, out->tokio_version, sizeof(out->tokio_version));
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

/* ---- {impl#N}: DWARF's name for an impl block, which symbols spell as the
 * type (and trait) it is for. Resolved from a method's linkage name in that
 * impl's namespace, so that DWARF-named tasks read like symbol-named ones. */

#define MAX_IMPLS 64

struct impls {
	size_t n;
	char *path[MAX_IMPLS];  /* "names_target::{impl#2}" as in a site's T */
	char *type[MAX_IMPLS];  /* "<names_target::Counter>", NULL until found */
};

static void impls_free(struct impls *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->path[i]);
		free(im->type[i]);
	}
	im->n = 0;
}

static bool path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == ':';
}

/* Start of the path that ends just before P ("a::b::{impl#1}" from its '{'). */
static const char *path_start(const char *str, const char *p)
{
	while (p > str && path_char(p[-1]))
		p--;
	return p;
}

/* Every "path::{impl#N}" in the sites' future types, once each. */
static void impl_keys(const struct tg_poll_sites *out, struct impls *im)
{
	for (size_t i = 0; i < out->n; i++) {
		const char *t = out->v[i].future_type;

		for (const char *p = t ? strstr(t, "{impl#") : NULL; p; p = strstr(p + 1, "{impl#")) {
			const char *a = path_start(t, p), *e = strchr(p, '}');
			size_t j;

			if (!e || a == p)
				continue;
			for (j = 0; j < im->n && (strlen(im->path[j]) != (size_t)(e + 1 - a) ||
						  strncmp(im->path[j], a, (size_t)(e + 1 - a)) != 0); j++)
				;
			if (j == im->n && im->n < MAX_IMPLS && (im->path[im->n] = strndup(a, (size_t)(e + 1 - a))))
				im->type[im->n++] = NULL;
		}
	}
}

/* NAME without its last LEVELS top-level path segments: "<X as T>::f" less
 * one is "<X as T>", "a::X::f::{{closure}}" less two is "a::X". */
static char *drop_segments(const char *name, int levels)
{
	size_t n = strlen(name), cut[64];
	int depth = 0, ncut = 0;

	for (size_t i = 0; i + 1 < n && ncut < 64; i++) {
		if (name[i] == '<' || name[i] == '(' || name[i] == '[')
			depth++;
		else if ((name[i] == '>' && (i == 0 || name[i - 1] != '-')) || name[i] == ')' || name[i] == ']')
			depth--;
		else if (depth == 0 && name[i] == ':' && name[i + 1] == ':')
			cut[ncut++] = i++;
	}
	return ncut >= levels && levels > 0 ? strndup(name, cut[ncut - levels]) : NULL;
}

/* The impl's type, from the linkage name of a function written in it: a
 * method (one level down), or a closure or async body inside one (the
 * method itself is often inlined away, its body's resume function is not). */
static char *impl_type_from_methods(Dwarf_Die *ns, int level)
{
	Dwarf_Die c;
	Dwarf_Attribute attr;
	char *ty = NULL;

	if (level > 3 || dwarf_child(ns, &c) != 0)
		return NULL;
	do {
		const char *ln;
		char *dem;
		int tag = dwarf_tag(&c);

		if (tag == DW_TAG_namespace) {
			ty = impl_type_from_methods(&c, level + 1);
			continue;
		}
		if (tag != DW_TAG_subprogram ||
		    !(ln = dwarf_formstring(dwarf_attr_integrate(&c, DW_AT_linkage_name, &attr))) ||
		    !(dem = tg_demangle(ln)))
			continue;
		if (!strstr(dem, "::<impl ")) /* legacy's impl segment is no turbofish */
			tg_strip_turbofish(dem);
		ty = drop_segments(dem, level);
		free(dem);
	} while (!ty && dwarf_siblingof(&c, &c) == 0);
	return ty;
}

/* Walks the namespaces that lead to a wanted impl (only those). */
static void walk_impls(Dwarf_Die *die, const char *prefix, struct impls *im, int depth)
{
	Dwarf_Attribute attr;
	Dwarf_Die child;
	char path[1024];

	do {
		const char *name;
		bool wanted = false;

		if (dwarf_tag(die) != DW_TAG_namespace ||
		    !(name = dwarf_formstring(dwarf_attr(die, DW_AT_name, &attr))))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "::" : "", name);
		for (size_t i = 0; i < im->n; i++) {
			size_t k = strlen(path);

			if (im->type[i] || strncmp(im->path[i], path, k) != 0)
				continue;
			if (im->path[i][k] == 0)
				im->type[i] = impl_type_from_methods(die, 1);
			else if (im->path[i][k] == ':')
				wanted = true;
		}
		if (wanted && depth < 32 && dwarf_child(die, &child) == 0)
			walk_impls(&child, path, im, depth + 1);
	} while (dwarf_siblingof(die, die) == 0);
}

static bool impls_done(const struct impls *im)
{
	for (size_t i = 0; i < im->n; i++)
		if (!im->type[i])
			return false;
	return true;
}

/* T with every resolved "path::{impl#N}" replaced by its type. */
static char *replace_impls(const char *t, const struct impls *im)
{
	size_t cap = strlen(t) + 1, len = 0;
	char *r = malloc(cap);

	for (const char *p = t; r && *p;) {
		const char *rep = NULL;
		size_t skip = 1;

		for (size_t i = 0; i < im->n && !rep; i++) {
			size_t k = strlen(im->path[i]);

			if (im->type[i] && strncmp(p, im->path[i], k) == 0 && (p == t || !path_char(p[-1])))
				rep = im->type[i], skip = k;
		}
		if (!rep)
			rep = p, skip = 1;
		size_t add = rep == p ? 1 : strlen(rep);
		if (len + add + 1 > cap) {
			char *nr = realloc(r, cap = 2 * (len + add + 1));

			if (!nr) {
				free(r);
				return NULL;
			}
			r = nr;
		}
		memcpy(r + len, rep, add);
		len += add;
		p += skip;
	}
	if (r)
		r[len] = 0;
	return r;
}

static void resolve_impls(Dwarf *dw, struct tg_poll_sites *out)
{
	struct impls im = { 0 };
	Dwarf_Off off = 0, next;
	size_t hsize;

	impl_keys(out, &im);
	while (im.n && !impls_done(&im) && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0)
			walk_impls(&child, "", &im, 0);
		off = next;
	}
	for (size_t i = 0; im.n && i < out->n; i++) {
		char *t = out->v[i].future_type ? replace_impls(out->v[i].future_type, &im) : NULL;

		if (t) {
			free(out->v[i].future_type);
			out->v[i].future_type = t;
		}
	}
	impls_free(&im);
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
		resolve_impls(dw, out);
	}
	dwfl_end(dwfl);
}

/* ---- classification */

static void finish_site(struct tg_poll_site *site)
{
	char buf[64];

	if (site->task_name) {
		/* already named: several candidate types (see name_site_vtable) */
	} else if (site->future_type) {
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

/* Whether the read-only data names Tokio's sources: panic locations keep
 * ".../tokio-1.x.y/src/..." even in a fully stripped release build. Tells a
 * stripped Tokio binary from one that is not Tokio at all. */
static bool mentions_tokio(const struct tg_elf_code *c)
{
	Elf_Data *d = tg_elf_section(c, ".rodata", SHT_PROGBITS);

	return d && d->d_buf && memmem(d->d_buf, d->d_size, "/tokio-1.", 9);
}

static void explain_no_sites(const struct tg_elf_code *c, bool has_symtab, const char *exe, char *err, size_t errlen)
{
	if (has_symtab)
		snprintf(err, errlen, "%s has no tokio::runtime::task::raw::poll instances: not a Tokio binary?", exe);
	else if (mentions_tokio(c))
		snprintf(err, errlen, "%s has no symbol table (stripped) and no task vtable was recognized: "
			 "its Tokio poll functions cannot be found; keep the symbol table: in Cargo.toml, "
			 "[profile.release] strip = \"debuginfo\" (Rust's default) or strip = false", exe);
	else
		snprintf(err, errlen, "%s has no symbol table and no sign of Tokio: not a Tokio binary?", exe);
}

/* raw::poll<T, S> is compiled with the flags of the whole build, the user's
 * crates included: if its instances set up a frame pointer (push %rbp;
 * mov %rsp,%rbp, perhaps after endbr64), the build keeps frame pointers. */
static bool keeps_frame_pointers(struct tg_elf_code *c, const struct tg_poll_sites *out)
{
	static const unsigned char endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const unsigned char prologue[] = { 0x55, 0x48, 0x89, 0xe5 };

	for (size_t i = 0; i < out->n; i++) {
		unsigned char code[8];
		const unsigned char *p = code;

		if (tg_elf_read(c, out->v[i].addr, code, sizeof(code)))
			continue;
		if (memcmp(p, endbr64, sizeof(endbr64)) == 0)
			p += sizeof(endbr64);
		if (memcmp(p, prologue, sizeof(prologue)) == 0)
			return true;
	}
	return false;
}

/* The raw::poll sites of the open binary C. */
static int find_in(struct tg_elf_code *c, const char *exe, struct tg_poll_sites *out, char *err, size_t errlen)
{
	int r;

	out->has_symtab = tg_elf_has_symtab(c);
	r = collect_sites(c, out);
	if (r) {
		snprintf(err, errlen, "reading symbols of %s: %s", exe, strerror(-r));
		return r;
	}
	/* stripped: the task vtables still hold every poll function's address */
	if (out->n == 0 && !out->has_symtab && mentions_tokio(c) && (r = tg_find_vtable_sites(c, out)) < 0) {
		snprintf(err, errlen, "reading %s's task vtables: %s", exe, strerror(-r));
		return r;
	}
	if (out->n == 0) {
		explain_no_sites(c, out->has_symtab, exe, err, errlen);
		return -ENOENT;
	}
	name_sites_dwarf(exe, out);
	name_sites_vtable(c, out);
	tokio_version_from_rodata(c, out);
	for (size_t i = 0; i < out->n; i++)
		finish_site(&out->v[i]);
	out->frame_pointers = keeps_frame_pointers(c, out);
	return 0;
}

/* One open of the binary for both kinds of site, BLOCK_ON the block_on ones too. */
static int find_sites(const char *exe, struct tg_poll_sites *out, bool block_on, char *err, size_t errlen)
{
	struct tg_elf_code c;
	int r;

	memset(out, 0, sizeof(*out));
	r = tg_elf_code_open(exe, &c, err, errlen);
	if (r)
		return r;
	r = find_in(&c, exe, out, err, errlen);
	/* A block_on body that was inlined away has no site: then it is not measured. */
	if (!r && block_on && tg_find_block_on_sites(&c, out) < 0)
		fprintf(stderr, "tokio-guard: warning: out of memory finding %s's block_on sites; "
			"the block_on body is not measured\n", exe);
	tg_elf_code_close(&c);
	if (r)
		tg_poll_sites_free(out);
	return r;
}

int tg_find_poll_sites(const char *exe, struct tg_poll_sites *out, char *err, size_t errlen)
{
	return find_sites(exe, out, false, err, errlen);
}

int tg_find_task_sites(const char *exe, struct tg_poll_sites *out, char *err, size_t errlen)
{
	return find_sites(exe, out, true, err, errlen);
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
