/* The spec parser's insides, shared by spec/'s files: the parse context, the key
 * tables and the walker, and the helpers each section's table uses. Not a face:
 * the rest of tokio-guard includes spec.h only. */
#ifndef TG_SPEC_PARSE_H
#define TG_SPEC_PARSE_H

#include "spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define NS_PER_M (60ull * NS_PER_S)
#define NS_PER_H (3600ull * NS_PER_S)

#define MAX_SPEC_BYTES (4u << 20) /* a spec is a few KiB; refuse to read /dev/zero */
#define PATH_LEN 512              /* field paths like load[12].exec[3] */
#define QUOTE_LEN 256             /* a quoted value in a message */
#define QUOTE_SRC 60              /* bytes of the value shown before "..." */
#define MAX_FIELDS 32             /* keys per table */
#define MAX_DEPTH 64              /* the spec nests ~8 deep; libyaml slows down past ~10^4 */
#define MAX_VALUES 200000         /* values visited, aliases expanded: no alias bombs */
#define MAX_TEXT_BYTES (64u << 20) /* text read, aliases expanded: 200000 values of 4KB are 800MB */
#define MAX_PARALLEL_DEPTH 4      /* parallel inside parallel ...; also stops recursive aliases */
#define MAX_BODY_BYTES (16u << 20) /* http.body_file */
#define MAX_REGEX_BYTES 512       /* ready.log: compile time grows quadratically */
#define MAX_REGEX_NODES 20000     /* ready.log: see regex_cost */
#define MAX_REGEX_NESTING 2       /* ready.log: (a*)+ at most */
#define MAX_RATE 1e9              /* requests per second */

/* A growable NULL-terminated vector of malloc'd strings. */
struct strv {
	char **v;
	size_t n, cap;
};

/* A growable byte buffer. */
struct sbuf {
	char *p;
	size_t n, cap;
};

/* Every step of the spec, children included, in document order: names must be unique. */
struct step_ref {
	const char *name;    /* the step's (owned by the step) */
	char *path;          /* "load[1].parallel[0]" */
	yaml_node_t *where;  /* the name's value, or the step */
	int line;
	size_t order;
};

struct ctx {
	yaml_document_t *doc;
	const char *file;
	const char *dir; /* absolute folder of the spec */
	char *err;     /* the first error */
	size_t errlen;
	struct tg_spec_errors *all; /* every error, up to TG_SPEC_MAX_ERRORS; may be NULL */
	bool target_optional; /* attach: the target section may be absent */
	size_t nerrors;
	bool halt;     /* past the cap, or a budget ran out: stop walking */
	size_t values; /* visited so far, see MAX_VALUES */
	size_t text;   /* bytes of scalars read so far, see MAX_TEXT_BYTES */
	int depth;     /* of parallel steps being parsed */
	size_t nsteps; /* steps seen so far, children included: default names */
	size_t limit_cap; /* room in the limits of the assertion being parsed */
	struct step_ref *refs;
	size_t nrefs, caprefs;
};

struct field;
typedef int (*field_fn)(struct ctx *c, const struct field *f, yaml_node_t *val, const char *path,
			void *obj);

struct table {
	const struct field *fields;
	size_t n;
	/* cross-field rules, after every key was handled; SEEN[i] is the key node of
	 * fields[i] or NULL; NODE is the mapping (or null scalar) */
	int (*check)(struct ctx *c, yaml_node_t *node, const char *path, void *obj,
		     yaml_node_t *const *seen);
};

struct field {
	const char *key;
	field_fn fn;               /* NULL: defined by spec.md, not implemented yet */
	size_t off;                /* generic handlers write at (char *)obj + off */
	uint64_t min, max;         /* limits of the generic handlers */
	const struct table *sub;   /* h_section: the mapping's table */
};

#define TABLE(fields, check) { fields, N(fields), check }
#define FIELD(k, fn) { k, fn, 0, 0, 0, NULL }
#define STR(k, T, m) { k, h_str, offsetof(T, m), 0, 0, NULL }
#define DUR(k, T, m, min) { k, h_dur, offsetof(T, m), min, UINT64_MAX, NULL }
#define U32(k, T, m, lo, hi) { k, h_u32, offsetof(T, m), lo, hi, NULL }
#define SECTION(k, table) { k, h_section, 0, 0, 0, &table }
#define SECTION_AT(k, fn, T, m, table) { k, fn, offsetof(T, m), 0, 0, &table }

/* spec.c: the defaults of every key (adhoc.c's spec too) */
void spec_defaults(struct tg_spec *s);

/* words.c: strings, words, paths */
char *abs_join(const char *base, const char *rel);
char *default_name(const char *path);
void one_line(char *s);
void quote(char *out, size_t outlen, const char *s, size_t len);
char *spec_folder(const char *path);
int split_words(const char *s, char ***argv, char *why, size_t whylen, size_t *err_off);
void strv_drop(struct strv *sv);
int strv_push(struct strv *sv, char *s);
char **strv_take(struct strv *sv);

/* units.c: numbers with units */
void format_bytes(uint64_t x, char *out, size_t len);
bool is_digit(char c);
uint64_t parse_bytes(const char *s);

/* walk.c: the context, errors, the walker and the generic handlers */
int budget(struct ctx *c, const yaml_node_t *n, const char *path);
const char *describe(const yaml_node_t *n, char *buf, size_t len);
int exactly_one(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
		yaml_node_t *const *seen, const char *const *kinds);
/* One error at N (or LINE0:COL0): recorded, and -EINVAL */
__attribute__((format(printf, 4, 5))) int fail(struct ctx *c, const yaml_node_t *n,
						const char *path, const char *fmt, ...);
__attribute__((format(printf, 5, 6))) int fail_at(struct ctx *c, size_t line0, size_t col0,
						   const char *path, const char *fmt, ...);
int fail_type(struct ctx *c, const yaml_node_t *n, const char *path, const char *what);
size_t field_index(const struct table *t, const char *key);
bool go_on(const struct ctx *c, int rc);
int h_dur(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj);
int h_section(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
	      void *obj);
int h_str(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj);
int h_u32(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj);
bool is_null(const yaml_node_t *n);
void join_index(char *out, const char *path, size_t i);
void join_key(char *out, const char *path, const char *key);
yaml_node_t *node(struct ctx *c, int idx);
int oom(struct ctx *c);
int parse_argv(struct ctx *c, yaml_node_t *v, const char *path, char ***out);
int parse_uint(struct ctx *c, yaml_node_t *v, const char *path, uint64_t lo, uint64_t hi,
	       uint64_t *out);
int require(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
	    yaml_node_t *const *seen, const char *key);
int scalar(struct ctx *c, const yaml_node_t *n, const char *path, const char *what,
	   const char **out);
int walk_map(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
	     void *obj, yaml_node_t **seen);

/* section_target.c: also the value parsers load steps share (addresses, URLs, env) */
int h_cwd(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj);
int h_env(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj);
int h_version(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
	      void *obj);
int parse_addr(struct ctx *c, yaml_node_t *v, const char *path, char **hostp, char **portp);
int parse_kv(struct ctx *c, yaml_node_t *v, const char *path, char ***out, bool headers);
int parse_url(struct ctx *c, yaml_node_t *v, const char *path, char **out);
extern const struct table target_table;

/* section_probe.c */
extern const struct table probe_table;
extern const struct table report_table;

/* section_load.c */
void drop_refs(struct ctx *c);
int h_load(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj);

/* section_assertions.c */
int check_load_selectors(struct ctx *c, const struct tg_spec *s, yaml_node_t *root);
int h_allow(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj);
int h_assertions(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		 void *obj);

#endif
