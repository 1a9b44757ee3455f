/* Address to function/file/line with libdwfl, for the target and its shared
 * libraries, also after the target has exited.
 *
 * Every mapped ELF file is opened while the process is alive (through
 * /proc/PID/map_files, which also reaches deleted or since-replaced files)
 * and reported to libdwfl with dwfl_report_elf, which keeps the descriptor:
 * nothing is read from /proc after the snapshot. The vDSO, which exists only
 * in memory, is copied into a memfd for the same reason. */
#define _GNU_SOURCE
#include "symbolize.h"
#include "names.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INLINE 64

struct mapping {
	uint64_t start, end, offset, inode;
	char *path;
	bool exec, deleted, tried;
};

struct modinfo {
	Dwfl_Module *mod;
	uint64_t lo, hi;
	const char *base; /* basename, for "[unknown] (libc.so.6+0x1234)" */
	bool system;      /* a shared library of the system, never own code */
};

/* CU address ranges, for modules whose .debug_aranges is missing or partial
 * (libdw 0.188 finds CUs through .debug_aranges only). */
struct cu_range {
	uint64_t lo, hi;
	Dwarf_Die *cu;
};

struct cu_index {
	Dwfl_Module *mod;
	struct cu_range *r;
	size_t n;
	Dwarf_Addr bias;
};

struct fn_range {
	uint64_t lo, hi;
	Dwarf_Die die;
};

struct cu_funcs {
	void *key; /* the CU DIE's address in .debug_info */
	struct fn_range *r;
	size_t n, cap;
};

struct entry {
	uint64_t key;
	uint32_t first;
	uint16_t n;
	bool used;
	bool unmapped; /* no module: may resolve after a refresh */
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

struct tg_symbolizer {
	Dwfl *dwfl;
	char *exe;
	struct mapping *maps;
	size_t nmaps, maps_cap;
	struct modinfo *mods;
	size_t nmods, mods_cap;
	struct cu_index *cuix;
	size_t ncuix, cuix_cap;
	struct cu_funcs *cufn;
	size_t ncufn, cufn_cap;
	struct chunk *chunks;
	const char **strs; /* interned strings: open addressing */
	size_t strs_cap, strs_used;
	struct tg_frame *frames;
	size_t nframes, frames_cap;
	struct entry *cache;
	size_t cache_cap, cache_used;
	void *aux; /* tg_symbolizer_set_aux() */
	void (*free_aux)(void *);
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	void **p = pp;
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- strings: an arena plus an intern set, freed with the symbolizer ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static char *arena_dup(struct tg_symbolizer *sz, const char *s)
{
	size_t n = strlen(s) + 1;
	struct chunk *c = sz->chunks;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		c->used = 0, c->cap = cap, c->next = sz->chunks;
		sz->chunks = c;
	}
	char *d = memcpy(c->data + c->used, s, n);
	c->used += n;
	return d;
}

static int strs_rehash(struct tg_symbolizer *sz)
{
	size_t cap = sz->strs_cap ? sz->strs_cap * 2 : 1024;
	const char **t = calloc(cap, sizeof *t);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < sz->strs_cap; i++) {
		if (!sz->strs[i])
			continue;
		size_t j = hash_str(sz->strs[i]) & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = sz->strs[i];
	}
	free(sz->strs);
	sz->strs = t, sz->strs_cap = cap;
	return 0;
}

static const char *intern(struct tg_symbolizer *sz, const char *s)
{
	if (!s)
		return NULL;
	if ((sz->strs_used + 1) * 3 > sz->strs_cap * 2 && strs_rehash(sz) < 0)
		return NULL;
	size_t j = hash_str(s) & (sz->strs_cap - 1);
	for (; sz->strs[j]; j = (j + 1) & (sz->strs_cap - 1))
		if (strcmp(sz->strs[j], s) == 0)
			return sz->strs[j];
	char *d = arena_dup(sz, s);
	if (d) {
		sz->strs[j] = d;
		sz->strs_used++;
	}
	return d;
}

/* ---- the mapping snapshot ---- */

static int parse_map_line(char *line, struct mapping *m)
{
	unsigned long start, end, off, inode;
	unsigned maj, min;
	char perms[8];
	int pos = 0;

	if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &start, &end, perms, &off,
		   &maj, &min, &inode, &pos) < 7 || pos == 0)
		return -1;
	char *path = line + pos;
	path[strcspn(path, "\n")] = '\0';
	if (!*path || (*path != '/' && strcmp(path, "[vdso]") != 0))
		return -1;
	size_t n = strlen(path);
	static const char del[] = " (deleted)";
	bool deleted = n > sizeof del - 1 && strcmp(path + n - (sizeof del - 1), del) == 0;
	if (deleted)
		path[n - (sizeof del - 1)] = '\0';
	*m = (struct mapping){ .start = start, .end = end, .offset = off, .inode = inode,
			       .exec = perms[2] == 'x', .deleted = deleted };
	m->path = strdup(path);
	return m->path ? 0 : -1;
}

static bool same_mapping(const struct mapping *a, const struct mapping *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && strcmp(a->path, b->path) == 0;
}

static bool known_mapping(const struct tg_symbolizer *sz, const struct mapping *m)
{
	for (size_t i = 0; i < sz->nmaps; i++)
		if (same_mapping(&sz->maps[i], m))
			return true;
	return false;
}

/* Appends the mappings not seen yet. */
static int read_maps(struct tg_symbolizer *sz, pid_t pid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int err = 0;
	while (!err && getline(&line, &cap, f) > 0) {
		struct mapping m;
		if (parse_map_line(line, &m) < 0)
			continue;
		if (known_mapping(sz, &m) ||
		    (err = grow(&sz->maps, &sz->maps_cap, sz->nmaps + 1, sizeof m)) < 0) {
			free(m.path);
			continue;
		}
		sz->maps[sz->nmaps++] = m;
	}
	free(line);
	fclose(f);
	return err;
}

/* ---- reporting modules ---- */

static int open_same_inode(const char *path, uint64_t inode)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_ino != inode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The very file that is mapped, even if deleted or replaced since. */
static int open_mapped(pid_t pid, const struct mapping *m)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start, m->end);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (!m->deleted && (fd = open_same_inode(m->path, m->inode)) >= 0)
		return fd;
	snprintf(p, sizeof p, "/proc/%d/root%s", (int)pid, m->path);
	if ((fd = open_same_inode(p, m->inode)) >= 0)
		return fd;
	/* overlayfs shows other inode numbers in maps than stat does */
	return m->deleted ? -1 : open(m->path, O_RDONLY | O_CLOEXEC);
}

static int vdso_copy(pid_t pid, const struct mapping *m)
{
	char p[64];
	size_t len = m->end - m->start;
	snprintf(p, sizeof p, "/proc/%d/mem", (int)pid);
	int mem = open(p, O_RDONLY | O_CLOEXEC);
	char *buf = malloc(len);
	int fd = -1;
	if (mem >= 0 && buf && pread(mem, buf, len, (off_t)m->start) == (ssize_t)len) {
		fd = memfd_create("vdso", MFD_CLOEXEC);
		if (fd >= 0 && write(fd, buf, len) != (ssize_t)len) {
			close(fd);
			fd = -1;
		}
	}
	free(buf);
	if (mem >= 0)
		close(mem);
	return fd;
}

/* Load bias of the file mapped by M. ld.so maps each PT_LOAD from its
 * page-aligned file offset; segments may share a file page, so the segment
 * that starts exactly at M's offset is the one M maps, and only a mapping
 * split later (mprotect of RELRO) needs the segment merely containing it. */
static int load_bias(int fd, const struct mapping *m, uint64_t *bias)
{
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t n = 0;
	int rc = -1;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);

	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n && rc != 1; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		uint64_t off = ph.p_offset & ~(pg - 1);
		if (m->offset < off || m->offset >= ph.p_offset + ph.p_filesz)
			continue;
		*bias = m->start - ((ph.p_vaddr & ~(pg - 1)) + (m->offset - off));
		rc = off == m->offset ? 1 : 0;
	}
	if (e)
		elf_end(e);
	return rc < 0 ? -1 : 0;
}

static bool system_path(const char *path)
{
	static const char *const dirs[] = { "/lib/", "/lib64/", "/lib32/", "/usr/lib/",
					    "/usr/lib64/", "/usr/lib32/", "/usr/libexec/" };
	if (path[0] == '[')
		return true;
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return true;
	return false;
}

static const struct modinfo *find_modinfo(const struct tg_symbolizer *sz, uint64_t addr)
{
	for (size_t i = 0; i < sz->nmods; i++)
		if (addr >= sz->mods[i].lo && addr < sz->mods[i].hi)
			return &sz->mods[i];
	return NULL;
}

static void report_one(struct tg_symbolizer *sz, pid_t pid, const struct mapping *m)
{
	bool vdso = m->path[0] == '[';
	int fd = vdso ? vdso_copy(pid, m) : open_mapped(pid, m);
	uint64_t bias;
	if (fd < 0)
		return;
	if (load_bias(fd, m, &bias) < 0 || grow(&sz->mods, &sz->mods_cap, sz->nmods + 1, sizeof *sz->mods) < 0) {
		close(fd);
		return;
	}
	Dwfl_Module *mod = dwfl_report_elf(sz->dwfl, m->path, m->path, fd, bias, true);
	if (!mod) {
		close(fd);
		return;
	}
	struct modinfo *mi = &sz->mods[sz->nmods++];
	dwfl_module_info(mod, NULL, &mi->lo, &mi->hi, NULL, NULL, NULL, NULL);
	const char *slash = strrchr(m->path, '/');
	mi->mod = mod;
	mi->base = intern(sz, slash ? slash + 1 : m->path);
	mi->system = !(sz->exe && strcmp(sz->exe, m->path) == 0) && system_path(m->path);
}

/* Reports the files behind executable mappings that no module covers yet. */
static void report_new(struct tg_symbolizer *sz, pid_t pid)
{
	dwfl_report_begin_add(sz->dwfl);
	for (size_t i = 0; i < sz->nmaps; i++) {
		struct mapping *m = &sz->maps[i];
		if (m->tried || !m->exec)
			continue;
		m->tried = true;
		if (!find_modinfo(sz, m->start))
			report_one(sz, pid, m);
	}
	dwfl_report_end(sz->dwfl, NULL, NULL);
}

static char *read_exe(pid_t pid)
{
	char p[64], buf[PATH_MAX];
	snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(p, buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	char *del = strstr(buf, " (deleted)");
	if (del && del[10] == '\0')
		*del = '\0';
	return strdup(buf);
}

struct tg_symbolizer *tg_symbolizer_new(pid_t pid)
{
	struct tg_symbolizer *sz = calloc(1, sizeof *sz);
	if (!sz)
		return NULL;
	elf_version(EV_CURRENT);
	sz->dwfl = dwfl_begin(&callbacks);
	int err = sz->dwfl ? read_maps(sz, pid) : -ENOMEM;
	if (err < 0) {
		tg_symbolizer_free(sz);
		errno = -err;
		return NULL;
	}
	sz->exe = read_exe(pid);
	report_new(sz, pid);
	return sz;
}

/* Forgets what was cached about addresses outside every module: a library
 * loaded since may cover them now. */
static void drop_unmapped(struct tg_symbolizer *sz)
{
	for (size_t i = 0; i < sz->cache_cap; i++)
		if (sz->cache[i].used && sz->cache[i].unmapped)
			sz->cache[i].key = UINT64_MAX; /* never looked up again */
}

int tg_symbolizer_refresh(struct tg_symbolizer *sz, pid_t pid)
{
	if (!sz)
		return -EINVAL;
	int err = read_maps(sz, pid);
	if (err < 0)
		return err;
	report_new(sz, pid);
	drop_unmapped(sz);
	return 0;
}

void tg_symbolizer_free(struct tg_symbolizer *sz)
{
	if (!sz)
		return;
	if (sz->free_aux)
		sz->free_aux(sz->aux);
	if (sz->dwfl)
		dwfl_end(sz->dwfl);
	for (size_t i = 0; i < sz->nmaps; i++)
		free(sz->maps[i].path);
	for (size_t i = 0; i < sz->ncuix; i++)
		free(sz->cuix[i].r);
	for (size_t i = 0; i < sz->ncufn; i++)
		free(sz->cufn[i].r);
	free(sz->cufn);
	while (sz->chunks) {
		struct chunk *c = sz->chunks;
		sz->chunks = c->next;
		free(c);
	}
	free(sz->maps);
	free(sz->mods);
	free(sz->cuix);
	free(sz->strs);
	free(sz->frames);
	free(sz->cache);
	free(sz->exe);
	free(sz);
}

/* ---- finding the CU ---- */

static int cmp_range(const void *a, const void *b)
{
	const struct cu_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct cu_index *cu_index(struct tg_symbolizer *sz, Dwfl_Module *mod)
{
	for (size_t i = 0; i < sz->ncuix; i++)
		if (sz->cuix[i].mod == mod)
			return &sz->cuix[i];
	if (grow(&sz->cuix, &sz->cuix_cap, sz->ncuix + 1, sizeof *sz->cuix) < 0)
		return NULL;
	struct cu_index *ix = &sz->cuix[sz->ncuix++];
	size_t cap = 0;
	*ix = (struct cu_index){ .mod = mod };
	Dwarf_Die *cu = NULL;
	while ((cu = dwfl_module_nextcu(mod, cu, &ix->bias))) {
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;
		while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0) {
			if (grow(&ix->r, &cap, ix->n + 1, sizeof *ix->r) < 0)
				break;
			ix->r[ix->n++] = (struct cu_range){ lo + ix->bias, hi + ix->bias, cu };
		}
	}
	if (ix->n)
		qsort(ix->r, ix->n, sizeof *ix->r, cmp_range);
	return ix;
}

static Dwarf_Die *find_cu(struct tg_symbolizer *sz, Dwfl_Module *mod, uint64_t pc, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, bias);
	if (cu)
		return cu;
	struct cu_index *ix = cu_index(sz, mod);
	if (!ix || !ix->n)
		return NULL;
	size_t lo = 0, hi = ix->n; /* first range starting after pc */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ix->r[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges of different CUs may nest: look back a little */
	for (size_t i = lo, k = 0; i-- > 0 && k < 64; k++) {
		if (pc < ix->r[i].hi) {
			*bias = ix->bias;
			return ix->r[i].cu;
		}
	}
	return NULL;
}

/* ---- building frames ---- */

static const char *frame_name(struct tg_symbolizer *sz, const char *raw)
{
	char *d = tg_demangle(raw);
	if (!d)
		return NULL;
	tg_strip_turbofish(d);
	const char *s = intern(sz, d);
	free(d);
	return s;
}

static const char *die_name(struct tg_symbolizer *sz, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *raw = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	if (!raw)
		raw = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
	if (!raw)
		raw = dwarf_diename(die);
	return raw ? frame_name(sz, raw) : NULL;
}

/* Lexically drops "." and "dir/.." components, in place. */
static void normalize_path(char *path)
{
	char *out = path, *p = path;
	bool abs = *p == '/';
	size_t kept = 0; /* components in OUT that ".." may remove */

	while (*p) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.' && (kept || abs)) {
			while (kept && out > path && *--out != '/')
				;
			kept -= kept > 0;
			p += n; /* "/.." is "/" */
			continue;
		}
		if (out > path || abs)
			*out++ = '/';
		memmove(out, p, n);
		out += n, p += n;
		kept = n == 2 && out[-1] == '.' && out[-2] == '.' ? 0 : kept + 1;
	}
	if (out == path && abs)
		*out++ = '/';
	*out = '\0';
}

/* An absolute path: relative names are relative to the CU's comp_dir. */
static const char *source_path(struct tg_symbolizer *sz, Dwarf_Die *die, const char *f)
{
	char buf[PATH_MAX * 2];
	Dwarf_Die cu;
	Dwarf_Attribute a;
	const char *dir = NULL;

	if (!f)
		return NULL;
	if (f[0] != '/' && dwarf_diecu(die, &cu, NULL, NULL))
		dir = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &a));
	snprintf(buf, sizeof buf, "%s%s%s", dir ? dir : "", dir ? "/" : "", f);
	normalize_path(buf);
	return intern(sz, buf);
}

/* The subprograms of one CU with their address ranges. libdw 0.188's
 * dwarf_getscopes does not look inside DW_TAG_namespace, where rustc (and
 * g++) put functions, so the CU is walked here, once. */
static void index_scope(struct cu_funcs *cf, Dwarf_Die *parent, int depth)
{
	Dwarf_Die d;
	if (depth > 64 || dwarf_child(parent, &d) != 0)
		return;
	do {
		int tag = dwarf_tag(&d);
		if (tag == DW_TAG_namespace || tag == DW_TAG_module) {
			index_scope(cf, &d, depth + 1);
			continue;
		}
		if (tag != DW_TAG_subprogram)
			continue;
		Dwarf_Addr base, lo, hi;
		for (ptrdiff_t off = 0; (off = dwarf_ranges(&d, off, &base, &lo, &hi)) > 0;) {
			if (grow(&cf->r, &cf->cap, cf->n + 1, sizeof *cf->r) < 0)
				return;
			cf->r[cf->n++] = (struct fn_range){ lo, hi, d };
		}
	} while (dwarf_siblingof(&d, &d) == 0);
}

static int cmp_fn(const void *a, const void *b)
{
	const struct fn_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static struct cu_funcs *cu_funcs(struct tg_symbolizer *sz, Dwarf_Die *cu)
{
	for (size_t i = 0; i < sz->ncufn; i++)
		if (sz->cufn[i].key == cu->addr)
			return &sz->cufn[i];
	if (grow(&sz->cufn, &sz->cufn_cap, sz->ncufn + 1, sizeof *sz->cufn) < 0)
		return NULL;
	struct cu_funcs *cf = &sz->cufn[sz->ncufn++];
	*cf = (struct cu_funcs){ .key = cu->addr };
	index_scope(cf, cu, 0);
	if (cf->n)
		qsort(cf->r, cf->n, sizeof *cf->r, cmp_fn);
	return cf;
}

static struct fn_range *find_function(struct tg_symbolizer *sz, Dwarf_Die *cu, Dwarf_Addr pc)
{
	struct cu_funcs *cf = cu_funcs(sz, cu);
	if (!cf)
		return NULL;
	size_t lo = 0, hi = cf->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cf->r[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i-- > 0 && k < 16; k++)
		if (pc < cf->r[i].hi)
			return &cf->r[i];
	return NULL;
}

static bool is_block(int tag)
{
	return tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_try_block || tag == DW_TAG_catch_block || tag == DW_TAG_with_stmt;
}

/* FN, then the inlined subroutines containing PC, outermost first. When
 * there are more than MAX, the middle ones are dropped, not the innermost. */
static int inline_chain(Dwarf_Die *fn, Dwarf_Addr pc, Dwarf_Die *chain, int max)
{
	Dwarf_Die scope = *fn, d;
	int n = 0;
	chain[n++] = *fn;
	for (bool deeper = true; deeper;) {
		deeper = false;
		if (dwarf_child(&scope, &d) != 0)
			break;
		do {
			if (!is_block(dwarf_tag(&d)) || dwarf_haspc(&d, pc) <= 0)
				continue;
			if (dwarf_tag(&d) == DW_TAG_inlined_subroutine)
				chain[n < max ? n++ : max - 1] = d;
			scope = d;
			deeper = true;
			break;
		} while (dwarf_siblingof(&d, &d) == 0);
	}
	return n;
}

/* The call site of the inlined subroutine DIE, in its outer function. */
static void call_site(struct tg_symbolizer *sz, Dwarf_Die *inl, struct tg_frame *f)
{
	Dwarf_Attribute a;
	Dwarf_Word file, line;
	Dwarf_Die cu;
	Dwarf_Files *files;

	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &a), &line) == 0)
		f->line = (int)line;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &a), &file) == 0 &&
	    dwarf_diecu(inl, &cu, NULL, NULL) && dwarf_getsrcfiles(&cu, &files, NULL) == 0)
		f->file = (char *)source_path(sz, inl, dwarf_filesrc(files, file, NULL, NULL));
}

static void line_of(struct tg_symbolizer *sz, Dwarf_Die *cu, Dwarf_Addr pc, struct tg_frame *f)
{
	Dwarf_Line *l = dwarf_getsrc_die(cu, pc);
	int line = 0;
	if (!l)
		return;
	f->file = (char *)source_path(sz, cu, dwarf_linesrc(l, NULL, NULL));
	if (dwarf_lineno(l, &line) == 0)
		f->line = line;
}

/* Line 0 marks code the compiler could not attribute (its file is just the
 * previous row's, often an inlined callee's). Take the closest earlier row
 * of the function's own file, else the function's declaration. */
static void line_zero(struct tg_symbolizer *sz, Dwarf_Die *cu, Dwarf_Die *fn,
		      Dwarf_Addr lo, Dwarf_Addr pc, struct tg_frame *f)
{
	const char *decl = dwarf_decl_file(fn);
	int line = 0;
	if (!decl)
		return;
	for (int i = 0; i < 64 && pc > lo; i++) {
		Dwarf_Line *l = dwarf_getsrc_die(cu, pc - 1);
		const char *file = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
		if (!l || dwarf_lineaddr(l, &pc) != 0 || pc < lo)
			break;
		if (file && strcmp(file, decl) == 0 && dwarf_lineno(l, &line) == 0 && line) {
			f->file = (char *)source_path(sz, cu, file), f->line = line;
			return;
		}
	}
	f->file = (char *)source_path(sz, fn, decl);
	f->line = dwarf_decl_line(fn, &line) == 0 ? line : 0;
}

/* The function containing PC and, innermost first, the functions it was
 * inlined into, with the innermost line. Returns the number of frames (0:
 * no DWARF function). */
static int dwarf_frames(struct tg_symbolizer *sz, Dwarf_Die *cu, Dwarf_Addr pc,
			struct tg_frame *out, int max)
{
	Dwarf_Die chain[MAX_INLINE];
	struct fn_range *fn = find_function(sz, cu, pc);
	int n = fn ? inline_chain(&fn->die, pc, chain, MAX_INLINE) : 0, k = 0;

	for (int i = n - 1; i >= 0 && k < max; i--, k++) {
		out[k].function = (char *)die_name(sz, &chain[i]);
		if (i < n - 1) {
			call_site(sz, &chain[i + 1], &out[k]);
			out[k - 1].inlined = true;
		}
	}
	if (k) {
		line_of(sz, cu, pc, &out[0]);
		if (out[0].line == 0)
			line_zero(sz, cu, &chain[n - 1], fn->lo, pc, &out[0]);
	}
	return k;
}

static const char *unknown_name(struct tg_symbolizer *sz, Dwfl_Module *mod,
				const struct modinfo *mi, uint64_t pc)
{
	char buf[PATH_MAX + 64];
	GElf_Addr bias = 0;
	if (mi && dwfl_module_getelf(mod, &bias)) {
		snprintf(buf, sizeof buf, "[unknown] (%s+0x%" PRIx64 ")", mi->base, pc - bias);
		return intern(sz, buf);
	}
	for (size_t i = 0; i < sz->nmaps; i++) {
		const struct mapping *m = &sz->maps[i];
		if (pc >= m->start && pc < m->end) {
			const char *slash = strrchr(m->path, '/');
			snprintf(buf, sizeof buf, "[unknown] (%s+0x%" PRIx64 ")",
				 slash ? slash + 1 : m->path, pc - m->start + m->offset);
			return intern(sz, buf);
		}
	}
	return "[unknown]";
}

/* The symbol table's function containing PC, demangled, without a symbol
 * version ("clock_nanosleep@GLIBC_2.2.5": not a name users write), or NULL. */
static const char *symtab_name(struct tg_symbolizer *sz, Dwfl_Module *mod, uint64_t pc)
{
	GElf_Off off;
	GElf_Sym sym;
	const char *s = mod ? dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL) : NULL;
	char buf[512];
	size_t n = s ? strcspn(s, "@") : 0;

	if (!s || n == 0)
		return NULL;
	if (s[n] && n < sizeof(buf)) {
		memcpy(buf, s, n);
		buf[n] = 0;
		s = buf;
	}
	return frame_name(sz, s);
}

/* Fills OUT for PC; returns the frame count (>= 1). The frame that is not
 * inlined takes the symbol table's name: with debug = "line-tables-only"
 * DWARF has only short names ("{async_fn#0}", "run"), while the symbol is
 * the full path at every debug level. Inlined frames exist only in DWARF. */
static int resolve(struct tg_symbolizer *sz, uint64_t pc, struct tg_frame *out, int max)
{
	Dwfl_Module *mod = dwfl_addrmodule(sz->dwfl, pc);
	const struct modinfo *mi = mod ? find_modinfo(sz, pc) : NULL;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = mod ? find_cu(sz, mod, pc, &bias) : NULL;
	int n = cu ? dwarf_frames(sz, cu, pc - bias, out, max) : 0;
	const char *sym = symtab_name(sz, mod, pc);

	if (n == 0 && cu) /* line rows without a function DIE (assembly) */
		line_of(sz, cu, pc - bias, &out[0]);
	n = n ? n : 1;
	if (sym)
		out[n - 1].function = (char *)sym;
	for (int i = 0; i < n; i++) {
		if (!out[i].function)
			out[i].function = (char *)unknown_name(sz, mod, mi, pc);
		out[i].own = !(mi && mi->system) && out[i].function[0] != '[' &&
			     tg_is_own_code(out[i].function, out[i].file);
	}
	return n;
}

/* ---- the per-address cache ---- */

static struct entry *cache_slot(struct tg_symbolizer *sz, uint64_t key)
{
	size_t mask = sz->cache_cap - 1, j = (key * 0x9E3779B97F4A7C15ULL) >> 20 & mask;
	while (sz->cache[j].used && sz->cache[j].key != key)
		j = (j + 1) & mask;
	return &sz->cache[j];
}

static int cache_grow(struct tg_symbolizer *sz)
{
	struct entry *old = sz->cache;
	size_t n = sz->cache_cap;
	sz->cache_cap = n ? n * 2 : 1024;
	sz->cache = calloc(sz->cache_cap, sizeof *sz->cache);
	if (!sz->cache) {
		sz->cache = old, sz->cache_cap = n;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (old[i].used)
			*cache_slot(sz, old[i].key) = old[i];
	free(old);
	return 0;
}

static struct entry *cache_add(struct tg_symbolizer *sz, uint64_t key, uint64_t addr, uint64_t pc)
{
	struct tg_frame tmp[MAX_INLINE];
	memset(tmp, 0, sizeof tmp);
	int n = resolve(sz, pc, tmp, MAX_INLINE);

	if ((sz->cache_used + 1) * 3 > sz->cache_cap * 2 && cache_grow(sz) < 0)
		return NULL;
	if (grow(&sz->frames, &sz->frames_cap, sz->nframes + n, sizeof *tmp) < 0)
		return NULL;
	for (int i = 0; i < n; i++)
		tmp[i].addr = addr;
	memcpy(sz->frames + sz->nframes, tmp, n * sizeof *tmp);

	struct entry *e = cache_slot(sz, key);
	*e = (struct entry){ .key = key, .first = (uint32_t)sz->nframes, .n = (uint16_t)n,
			     .used = true, .unmapped = !dwfl_addrmodule(sz->dwfl, pc) };
	sz->nframes += n;
	sz->cache_used++;
	return e;
}

int tg_symbolize(struct tg_symbolizer *sz, uint64_t addr, bool retaddr,
		 struct tg_frame *out, int max)
{
	if (!sz || !out || max < 1)
		return 0;
	/* user addresses never use bit 63: it tells the two lookups apart */
	uint64_t key = (addr & ~(1ULL << 63)) | (retaddr ? 1ULL << 63 : 0);
	struct entry *e = sz->cache_cap ? cache_slot(sz, key) : NULL;
	if (!e || !e->used)
		e = cache_add(sz, key, addr, retaddr && addr ? addr - 1 : addr);
	if (!e) {
		out[0] = (struct tg_frame){ .addr = addr, .function = "[unknown]" };
		return 1;
	}
	int n = e->n < max ? e->n : max;
	memcpy(out, sz->frames + e->first, n * sizeof *out);
	return n;
}

/* ---- the leaf frame a frame-pointer walk skips */

#define X86_64_DWARF_RSP 7

/* CFA = rsp + offset at IP, from .eh_frame (or .debug_frame). */
static int sp_based_cfa(Dwfl_Module *mod, uint64_t ip, int64_t *offset)
{
	Dwarf_Addr bias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &bias);
	Dwarf_Frame *frame = NULL;
	Dwarf_Op *ops;
	size_t nops;
	int r = -ENOENT;

	if (!cfi)
		cfi = dwfl_module_dwarf_cfi(mod, &bias);
	if (!cfi || dwarf_cfi_addrframe(cfi, ip - bias, &frame))
		return -ENOENT;
	/* A simple "register + offset" rule comes back as one DW_OP_bregx. */
	if (dwarf_frame_cfa(frame, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_bregx && ops[0].number == X86_64_DWARF_RSP) {
		*offset = (int64_t)ops[0].number2;
		r = 0;
	}
	free(frame);
	return r;
}

int tg_leaf_return_address(struct tg_symbolizer *sz, uint64_t ip, uint64_t sp,
			   const uint8_t *stack, size_t len, uint64_t *ra)
{
	Dwfl_Module *mod = sp ? dwfl_addrmodule(sz->dwfl, ip) : NULL;
	int64_t off;
	uint64_t at;

	if (!mod || sp_based_cfa(mod, ip, &off))
		return -ENOENT;
	/* x86-64: the call pushed the return address just below the CFA. */
	at = sp + (uint64_t)off - sizeof(uint64_t);
	if (at < sp || at - sp + sizeof(uint64_t) > len)
		return -ERANGE;
	memcpy(ra, stack + (at - sp), sizeof(*ra));
	return *ra ? 0 : -ENOENT;
}

struct Dwfl *tg_symbolizer_dwfl(struct tg_symbolizer *sz)
{
	return sz ? sz->dwfl : NULL;
}

void *tg_symbolizer_aux(struct tg_symbolizer *sz)
{
	return sz ? sz->aux : NULL;
}

void tg_symbolizer_set_aux(struct tg_symbolizer *sz, void *aux, void (*free_aux)(void *))
{
	sz->aux = aux;
	sz->free_aux = free_aux;
}
