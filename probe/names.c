/* Rust symbol demangling and task-name simplification.
 *
 * Names reach us in three spellings, and all must end up the same:
 *   DWARF type names   demo::handler::{async_fn_env#0}, Box<T, alloc::alloc::Global>
 *   legacy symbols     demo::handler::{{closure}}            (no generics at all)
 *   v0 symbols         demo::handler::{closure#0}, f::<T>    (turbofish generics)
 * A task name keeps only what the poorest of them (a legacy symbol, no DWARF)
 * can spell, so that every build of one source names its tasks alike: no
 * closure or async block numbers, no generics of functions; see
 * tg_simplify_task_name.
 */
#define _GNU_SOURCE
#include "names.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <demangle.h>

/* ---- bracket scanning shared by every parser below ---- */

struct span {
	const char *p;
	size_t n;
};

/* +1 for an opener, -1 for a closer, 0 otherwise. The '>' of "->" (fn
 * pointer types inside generics) closes nothing. */
static int bracket_delta(const char *s, size_t i)
{
	switch (s[i]) {
	case '<': case '(': case '[': case '{':
		return 1;
	case '>':
		return (i > 0 && s[i - 1] == '-') ? 0 : -1;
	case ')': case ']': case '}':
		return -1;
	default:
		return 0;
	}
}

/* Index of the closer matching the opener at I (N - 1 when unbalanced). */
static size_t group_end(const char *p, size_t n, size_t i)
{
	int depth = 0;
	for (; i < n; i++)
		if ((depth += bracket_delta(p, i)) <= 0)
			return i;
	return n - 1;
}

static struct span trim(const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	return (struct span){ p, n };
}

static bool span_eq(struct span s, const char *lit)
{
	return strlen(lit) == s.n && memcmp(s.p, lit, s.n) == 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Index of the '<' opening the top-level generic group that ends the span,
 * or -1 ("Foo<A, B>" -> 3; "<X as Y>::f" -> -1). */
static long final_group(struct span s)
{
	long open = -1;
	int depth = 0;

	for (size_t i = 0; i < s.n; i++) {
		int d = bracket_delta(s.p, i);
		if (d > 0 && depth++ == 0)
			open = s.p[i] == '<' ? (long)i : -1;
		else if (d < 0 && --depth == 0 && i == s.n - 1)
			return open;
		if (depth < 0)
			return -1;
	}
	return -1;
}

/* Splits "A, B<C, D>, E" at top-level commas. Returns the argument count
 * (which may exceed MAX; only MAX are stored). */
static int split_args(struct span s, struct span *out, int max)
{
	int count = 0, depth = 0;
	size_t start = 0;

	for (size_t i = 0; i <= s.n; i++) {
		if (i < s.n) {
			depth += bracket_delta(s.p, i);
			if (depth != 0 || s.p[i] != ',')
				continue;
		}
		if (count < max)
			out[count] = trim(s.p + start, i - start);
		count++;
		start = i + 1;
	}
	return count;
}

/* ---- a tiny growable string ---- */

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s, b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static char *buf_finish(struct buf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

/* ---- demangling ---- */

/* LLVM appends ".llvm.<digits>" to symbols it promoted during (thin)LTO. */
static void strip_llvm_suffix(char *s)
{
	char *p = strstr(s, ".llvm.");
	if (!p)
		return;
	for (const char *q = p + 6; *q; q++)
		if (!isalnum((unsigned char)*q))
			return;
	*p = '\0';
}

static bool is_hex_run(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)p[i]))
			return false;
	return n > 0;
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Length of a removable hash at S (0 when none): "::h<16 hex>" as a whole
 * path segment, or "[<hex>]" glued to a crate name (v0 verbose output). */
static size_t hash_len_at(const char *name, const char *s)
{
	if (starts_with(s, "::h") && is_hex_run(s + 3, 16) && !ident_char(s[19]))
		return 19;
	if (*s == '[' && s > name && ident_char(s[-1])) {
		const char *end = strchr(s, ']');
		if (end && end - s - 1 <= 16 && is_hex_run(s + 1, end - s - 1))
			return end - s + 1;
	}
	return 0;
}

void tg_strip_hashes(char *name)
{
	if (!name)
		return;
	char *w = name;
	for (const char *r = name; *r;) {
		size_t skip = hash_len_at(name, r);
		if (skip)
			r += skip;
		else
			*w++ = *r++;
	}
	*w = '\0';
}

char *tg_demangle(const char *sym)
{
	if (!sym)
		return NULL;
	char *s = strdup(sym);
	if (!s)
		return NULL;
	strip_llvm_suffix(s);

	char *d = NULL;
	if (starts_with(s, "_R") || starts_with(s, "_ZN"))
		d = cplus_demangle(s, DMGL_PARAMS | DMGL_RUST);
	if (!d && starts_with(s, "_Z")) /* C++ (libstdc++ frames, FFI deps) */
		d = cplus_demangle(s, DMGL_PARAMS | DMGL_AUTO);
	if (d) {
		free(s);
		s = d;
	}
	tg_strip_hashes(s);
	return s;
}

void tg_strip_turbofish(char *name)
{
	if (!name)
		return;
	size_t n = strlen(name), w = 0;
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (depth == 0 && starts_with(name + i, "::<")) {
			i = group_end(name, n, i + 2);
			continue;
		}
		depth += bracket_delta(name, i);
		name[w++] = name[i];
	}
	name[w] = '\0';
}

/* ---- task names ---- */

static char *simplify(struct span s);

/* Types whose name says nothing about the task: name what they wrap. */
static const char *const wrappers[] = {
	"core::pin::Pin", "std::pin::Pin", "Pin",
	"alloc::boxed::Box", "std::boxed::Box", "Box",
	"tracing::instrument::Instrumented", "tracing::instrument::WithDispatch",
	"tracing_futures::Instrumented", "tracing_futures::WithDispatch",
	"core::panic::unwind_safe::AssertUnwindSafe", "std::panic::AssertUnwindSafe",
	"core::panic::AssertUnwindSafe", "std::panic::unwind_safe::AssertUnwindSafe",
	/* spawn_blocking work is named by its closure; the site's kind says where it ran */
	"tokio::runtime::blocking::task::BlockingTask",
};

static bool is_wrapper(struct span base)
{
	for (size_t i = 0; i < sizeof wrappers / sizeof wrappers[0]; i++)
		if (span_eq(base, wrappers[i]))
			return true;
	return false;
}

/* Removes every top-level <...> group that follows a name ("Vec<u8>",
 * "{closure_env#0}<char>"), keeping the leading qualified "<X as Y>". */
static void drop_generics(struct span s, struct buf *out)
{
	int depth = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (depth == 0 && s.p[i] == '<' && i > 0) {
			i = group_end(s.p, s.n, i);
			continue;
		}
		depth += bracket_delta(s.p, i);
		buf_add(out, s.p + i, 1);
	}
}

/* Matches "{WORD#N}" and returns true. */
static bool is_numbered(struct span seg, const char *word)
{
	size_t w = strlen(word);
	if (seg.n < w + 4 || seg.p[0] != '{' || seg.p[seg.n - 1] != '}')
		return false;
	if (memcmp(seg.p + 1, word, w) != 0 || seg.p[w + 1] != '#')
		return false;
	for (size_t i = w + 2; i < seg.n - 1; i++)
		if (!isdigit((unsigned char)seg.p[i]))
			return false;
	return true;
}

/* A symbol-style closure: what legacy and v0 mangling call any async fn
 * body, async block or closure. */
static bool is_symbol_closure(struct span seg)
{
	return span_eq(seg, "{{closure}}") || is_numbered(seg, "closure");
}

/* An async fn body, async block or closure, however spelled. Legacy symbols
 * call all of them {{closure}}, unnumbered: a name that must read the same
 * in every build cannot keep any of them (tg_simplify_task_name). */
static bool is_closure_like(struct span seg)
{
	static const char *const words[] = {
		"async_fn_env", "async_fn", "async_block_env", "async_block", "closure_env",
		"closure", "generator_env", "coroutine_env", "coroutine", "async_closure_env",
	};
	if (is_symbol_closure(seg))
		return true;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (is_numbered(seg, words[i]))
			return true;
	return false;
}

/* Legacy's "<impl Trait for X>" segment: X and Trait (v0 and DWARF-resolved
 * names say "<X as Trait>"). */
static bool impl_for(struct span seg, struct span *x, struct span *trait)
{
	int depth = 0;
	if (seg.n < 12 || memcmp(seg.p, "<impl ", 6) != 0 || seg.p[seg.n - 1] != '>')
		return false;
	for (size_t i = 6; i + 5 <= seg.n - 1; i++) {
		depth += bracket_delta(seg.p, i);
		if (depth == 0 && memcmp(seg.p + i, " for ", 5) == 0) {
			*trait = trim(seg.p + 6, i - 6);
			*x = trim(seg.p + i + 5, seg.n - 1 - (i + 5));
			return true;
		}
	}
	return false;
}

/* "<X>" -> X simplified; "<X as Y>" keeps its shape with both simplified. */
static void emit_qualified(struct span seg, struct buf *out)
{
	struct span in = trim(seg.p + 1, seg.n - 2);
	int depth = 0;
	for (size_t i = 0; i + 4 <= in.n; i++) {
		depth += bracket_delta(in.p, i);
		if (depth == 0 && memcmp(in.p + i, " as ", 4) == 0) {
			char *x = simplify(trim(in.p, i));
			buf_str(out, "<");
			buf_str(out, x ? x : "");
			buf_str(out, " as ");
			drop_generics(trim(in.p + i + 4, in.n - i - 4), out);
			buf_str(out, ">");
			free(x);
			return;
		}
	}
	char *x = simplify(in);
	buf_str(out, x ? x : "");
	free(x);
}

#define MAX_SEGMENTS 64

static int split_path(struct span s, struct span *segs)
{
	int n = 0, depth = 0;
	size_t start = 0;
	for (size_t i = 0; i <= s.n && n < MAX_SEGMENTS; i++) {
		if (i < s.n) {
			depth += bracket_delta(s.p, i);
			if (depth != 0 || s.p[i] != ':' || i + 1 >= s.n || s.p[i + 1] != ':')
				continue;
		}
		segs[n++] = (struct span){ s.p + start, i - start };
		start = i + 2;
		i++;
	}
	return n;
}

/* The path without closure-like segments and without generics: the
 * function (or type, or impl) the future's code was written in. */
static char *simplify_path(struct span s)
{
	struct span segs[MAX_SEGMENTS];
	int n = split_path(s, segs);

	struct buf out = { 0 };
	bool first = true;
	for (int i = 0; i < n; i++) {
		struct span seg = trim(segs[i].p, segs[i].n), x, trait;
		if (impl_for(seg, &x, &trait)) {
			/* "m::<impl T for X>::f" is "<X as T>::f": the module goes */
			struct buf q = { 0 };
			buf_str(&q, "<");
			buf_add(&q, x.p, x.n);
			buf_str(&q, " as ");
			buf_add(&q, trait.p, trait.n);
			buf_str(&q, ">");
			free(out.s);
			out = (struct buf){ 0 };
			if (q.s)
				emit_qualified((struct span){ q.s, q.len }, &out);
			free(q.s);
			first = false;
			continue;
		}
		if (i > 0 && seg.n && seg.p[0] == '<')
			continue; /* v0 turbofish: "f::<T>" */
		if (seg.n && seg.p[0] == '<' && seg.p[seg.n - 1] == '>') {
			if (!first)
				buf_str(&out, "::");
			emit_qualified(seg, &out);
			first = false;
			continue;
		}
		struct buf plain = { 0 };
		drop_generics(seg, &plain);
		struct span p = { plain.s ? plain.s : "", plain.len };
		if (!is_closure_like(p)) {
			if (!first)
				buf_str(&out, "::");
			buf_add(&out, p.p, p.n);
			first = false;
		}
		free(plain.s);
	}
	return buf_finish(&out);
}

/* "dyn core::future::future::Future<Output = ()> + Send" -> "dyn Future". */
static char *simplify_dyn(struct span s)
{
	int depth = 0;
	size_t end = s.n;
	for (size_t i = 0; i < s.n; i++) {
		depth += bracket_delta(s.p, i);
		if (depth == 0 && s.p[i] == '+') {
			end = i;
			break;
		}
	}
	struct buf trait = { 0 };
	drop_generics(trim(s.p, end), &trait);
	const char *t = trait.s ? trait.s : "";
	const char *last = strrchr(t, ':');
	last = last ? last + 1 : t;

	struct buf out = { 0 };
	buf_str(&out, "dyn ");
	buf_str(&out, strcmp(last, "Future") == 0 ? "Future" : t);
	free(trait.s);
	return buf_finish(&out);
}

static bool wrapped_in_parens(struct span s)
{
	if (s.n < 2 || s.p[0] != '(' || s.p[s.n - 1] != ')')
		return false;
	int depth = 0;
	for (size_t i = 0; i < s.n - 1; i++)
		if ((depth += bracket_delta(s.p, i)) == 0)
			return false;
	return true;
}

/* The type a wrapper (Pin<Box<T>>, Instrumented<T>, ...) wraps, as often as
 * it is wrapped; S itself when it is no wrapper. */
static struct span unwrap(struct span s)
{
	for (int guard = 0; guard < 16; guard++) {
		s = trim(s.p, s.n);
		long open = final_group(s);
		if (open <= 0)
			break;
		struct span base = trim(s.p, open);
		if (base.n > 2 && memcmp(base.p + base.n - 2, "::", 2) == 0)
			base.n -= 2; /* v0 turbofish */
		struct span arg;
		struct span inner = { s.p + open + 1, s.n - open - 2 };
		if (!is_wrapper(base) || split_args(inner, &arg, 1) < 1 || !arg.n)
			break;
		s = arg;
	}
	return s;
}

static char *prefixed(const char *prefix, char *rest)
{
	struct buf out = { 0 };
	if (!rest)
		return NULL;
	buf_str(&out, prefix);
	buf_str(&out, rest);
	free(rest);
	return buf_finish(&out);
}

/* "(X)" is X; a tuple "(&str,u16)" keeps its parentheses, each element
 * simplified ("<(&str, u16) as Trait>::f" in every spelling). */
static char *simplify_parens(struct span s)
{
	struct span args[16];
	struct span in = { s.p + 1, s.n - 2 };
	int n = split_args(in, args, 16);
	if (n == 1 && trim(in.p, in.n).n)
		return simplify(in);
	struct buf out = { 0 };
	buf_str(&out, "(");
	for (int i = 0; i < n && i < 16; i++) {
		char *a = args[i].n ? simplify(args[i]) : NULL;
		if (i > 0 && (args[i].n || i + 1 < n))
			buf_str(&out, ", ");
		buf_str(&out, a ? a : "");
		free(a);
	}
	buf_str(&out, ")");
	return buf_finish(&out);
}

static char *simplify(struct span s)
{
	s = trim(s.p, s.n);
	if (wrapped_in_parens(s))
		return simplify_parens(s);
	if (s.n > 4 && memcmp(s.p, "dyn ", 4) == 0)
		return simplify_dyn((struct span){ s.p + 4, s.n - 4 });
	if (s.n > 5 && memcmp(s.p, "&mut ", 5) == 0)
		return prefixed("&mut ", simplify((struct span){ s.p + 5, s.n - 5 }));
	if (s.n > 1 && s.p[0] == '&')
		return prefixed("&", simplify((struct span){ s.p + 1, s.n - 1 }));

	struct span in = unwrap(s);
	if (in.p != s.p || in.n != s.n)
		return simplify(in);
	return simplify_path(s);
}

/* ---- the user's code inside a library's future type ---- */

#define MAX_OWN 3

struct owns {
	char *v[MAX_OWN];
	int n;
};

static bool own_function(const char *fn);

static void own_add(struct owns *o, char *name)
{
	for (int i = 0; name && i < o->n; i++)
		if (strcmp(o->v[i], name) == 0) {
			free(name);
			return;
		}
	if (!name || o->n == MAX_OWN || !*name) {
		free(name);
		return;
	}
	o->v[o->n++] = name;
}

static void collect_own(struct span s, struct owns *o, int depth);

static void collect_own_args(struct span inner, struct owns *o, int depth)
{
	struct span args[16];
	int n = split_args(inner, args, 16);
	for (int i = 0; i < n && i < 16; i++)
		collect_own(args[i], o, depth + 1);
}

/* The user's own paths in type S, outermost first: a function item spelled
 * by its path (symbols) or as "fn(A) -> R" (DWARF: R, the async fn's body,
 * names it), closures and async bodies by where they were written. A
 * library type is looked into, an own one is named and not looked into. */
static void collect_own(struct span s, struct owns *o, int depth)
{
	static const char *const skip[] = { "&mut ", "&", "*const ", "*mut ", "dyn ", "impl " };

	s = trim(s.p, s.n);
	for (bool again = true; again && depth < 24;) {
		again = false;
		for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
			if (s.n > strlen(skip[i]) && memcmp(s.p, skip[i], strlen(skip[i])) == 0) {
				s = trim(s.p + strlen(skip[i]), s.n - strlen(skip[i]));
				again = true;
			}
	}
	if (depth >= 24 || o->n == MAX_OWN || !s.n)
		return;
	if (s.n > 3 && memcmp(s.p, "fn(", 3) == 0) {
		size_t close = group_end(s.p, s.n, 2);
		for (size_t i = close + 1; i + 2 <= s.n; i++)
			if (memcmp(s.p + i, "->", 2) == 0) {
				collect_own((struct span){ s.p + i + 2, s.n - i - 2 }, o, depth + 1);
				break;
			}
		return;
	}
	if (s.p[0] == '(' || s.p[0] == '[' || s.p[0] == '<') {
		size_t close = group_end(s.p, s.n, 0);
		struct span in = { s.p + 1, close > 0 ? close - 1 : 0 };
		for (size_t i = 0; i + 4 <= in.n && s.p[0] != '('; i++)
			if (in.p[i] == ';' || memcmp(in.p + i, " as ", 4) == 0) {
				in.n = i;
				break;
			}
		collect_own_args(in, o, depth);
		return;
	}
	/* "A + B" (dyn bounds) */
	int d = 0;
	for (size_t i = 0; i < s.n; i++) {
		d += bracket_delta(s.p, i);
		if (d == 0 && s.p[i] == '+') {
			collect_own((struct span){ s.p, i }, o, depth + 1);
			collect_own((struct span){ s.p + i + 1, s.n - i - 1 }, o, depth + 1);
			return;
		}
	}
	char *path = strndup(s.p, s.n);
	bool own = path && own_function(path);
	free(path);
	if (own) {
		own_add(o, simplify(s));
		return;
	}
	d = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (d == 0 && s.p[i] == '<') {
			size_t close = group_end(s.p, s.n, i);
			collect_own_args((struct span){ s.p + i + 1, close - i - 1 }, o, depth);
			i = close;
			continue;
		}
		d += bracket_delta(s.p, i);
	}
}

/* " (a::f, a::g)": the own code that type S (no wrapper) carries in its
 * generic arguments, other than BASE itself. Only a type's arguments count:
 * a generic function's (DWARF's "{async_fn_env#0}<T>") are not in legacy
 * symbols. */
static void own_suffix(struct span s, const char *base, struct buf *out)
{
	long open = final_group(s);
	struct owns o = { 0 };

	if (open <= 0)
		return;
	struct span segs[MAX_SEGMENTS];
	int n = split_path(trim(s.p, open), segs);
	if (n == 0 || is_closure_like(trim(segs[n - 1].p, segs[n - 1].n)))
		return;
	collect_own_args((struct span){ s.p + open + 1, s.n - open - 2 }, &o, 0);
	bool any = false;
	for (int i = 0; i < o.n; i++) {
		if (strcmp(o.v[i], base) != 0) {
			buf_str(out, any ? ", " : " (");
			buf_str(out, o.v[i]);
			any = true;
		}
		free(o.v[i]);
	}
	if (any)
		buf_str(out, ")");
}

/* One spacing for every spelling: ", " after each comma (legacy writes
 * none), single spaces. */
static char *normalize_spaces(const char *s)
{
	struct buf out = { 0 };
	for (const char *p = s; *p; p++) {
		if (*p == ' ' && (out.len == 0 || out.s[out.len - 1] == ' '))
			continue;
		buf_add(&out, p, 1);
		if (*p == ',' && p[1] != ' ')
			buf_str(&out, " ");
	}
	while (out.len && out.s[out.len - 1] == ' ')
		out.s[--out.len] = '\0';
	return buf_finish(&out);
}

char *tg_simplify_task_name(const char *type_name)
{
	if (!type_name)
		return NULL;
	struct span in = unwrap((struct span){ type_name, strlen(type_name) });
	char *base = simplify(in);
	if (!base)
		return NULL;
	if (!*base) { /* nothing left of e.g. "{{closure}}": say what we had */
		free(base);
		return strdup(type_name);
	}
	struct buf out = { 0 };
	buf_str(&out, base);
	own_suffix(in, base, &out);
	free(base);
	char *joined = buf_finish(&out);
	char *r = joined ? normalize_spaces(joined) : NULL;
	free(joined);
	return r;
}

int tg_split_generic_pair(const char *name, char **t, char **s)
{
	*t = *s = NULL;
	if (!name)
		return -EINVAL;
	struct span all = trim(name, strlen(name));
	long open = final_group(all);
	if (open < 0)
		return -EINVAL;
	struct span args[2];
	struct span inner = { all.p + open + 1, all.n - open - 2 };
	if (split_args(inner, args, 2) != 2 || !args[0].n || !args[1].n)
		return -EINVAL;
	*t = strndup(args[0].p, args[0].n);
	*s = strndup(args[1].p, args[1].n);
	if (!*t || !*s) {
		free(*t), free(*s);
		*t = *s = NULL;
		return -ENOMEM;
	}
	return 0;
}

bool tg_is_blocking_schedule(const char *s_type)
{
	if (!s_type)
		return false;
	struct span s = trim(s_type, strlen(s_type));
	while (s.n && (*s.p == '&' || *s.p == '*'))
		s = trim(s.p + 1, s.n - 1);
	long open = final_group(s);
	if (open > 0)
		s.n = open;
	size_t i = s.n;
	while (i > 0 && s.p[i - 1] != ':')
		i--;
	struct span last = { s.p + i, s.n - i };
	return span_eq(last, "BlockingSchedule") || span_eq(last, "NoopSchedule");
}

/* ---- own code ---- */

/* Source paths that are never the target's: the Rust toolchain (and the
 * crates it vendors), cargo's and Debian's registries, vendored sources. */
static const char *const foreign_paths[] = {
	"/rustc/", "/rust/deps/", "/lib/rustlib/src/rust/", "/usr/src/rustc-",
	"/.cargo/registry/", "/cargo/registry/", "/.cargo/git/", "/cargo/git/checkouts/",
	"/usr/share/cargo/registry/", "/registry/src/", "/vendor/", "/usr/include/",
};

static bool own_path(const char *file)
{
	if (file[0] == '<') /* <built-in>, <inline asm> */
		return false;
	for (size_t i = 0; i < sizeof foreign_paths / sizeof foreign_paths[0]; i++) {
		const char *p = foreign_paths[i];
		/* "/rustc/..." may also start a path, without anything before it */
		if (strstr(file, p) || (file[0] != '/' && starts_with(file, p + 1)))
			return false;
	}
	return true;
}

/* Crates of the standard library and crates that only ever come from a
 * registry: frames without a source file are classified by these. */
static const char *const foreign_crates[] = {
	"std", "core", "alloc", "proc_macro", "test", "panic_unwind", "panic_abort",
	"hashbrown", "backtrace", "addr2line", "gimli", "miniz_oxide", "object",
	"rustc_demangle", "std_detect", "adler", "adler2", "memchr",
	"compiler_builtins", "unwind", "libc", "cfg_if", "dlmalloc",
	"tokio", "tokio_util", "tokio_stream", "tokio_macros", "mio", "hyper",
	"hyper_util", "h2", "http", "http_body", "http_body_util", "httparse",
	"bytes", "futures", "futures_core", "futures_util", "futures_channel",
	"futures_executor", "futures_io", "futures_task", "futures_sink",
	"tracing", "tracing_core", "tracing_subscriber", "tracing_futures", "log",
	"env_logger", "parking_lot", "parking_lot_core", "lock_api", "socket2",
	"slab", "pin_project_lite", "pin_project", "once_cell", "lazy_static",
	"serde", "serde_json", "axum", "axum_core", "tower", "tower_service",
	"tower_layer", "tower_http", "tonic", "prost", "ring", "rustls",
	"tokio_rustls", "openssl", "native_tls", "sha2", "digest", "rand",
	"rand_core", "rand_chacha", "crossbeam", "crossbeam_channel",
	"crossbeam_utils", "crossbeam_epoch", "crossbeam_deque", "rayon",
	"rayon_core", "smallvec", "anyhow", "thiserror", "clap", "clap_builder",
	"regex", "regex_automata", "regex_syntax", "aho_corasick", "itoa", "ryu",
	"indexmap", "signal_hook_registry", "num_cpus", "reqwest", "url",
	"base64", "flate2", "sqlx", "redis", "want", "try_lock", "tokio_postgres",
};

/* The crate a demangled Rust path starts with ("<demo::S as core::X>::f"
 * -> "demo"); empty when the name is not a Rust path (C, libc). */
static struct span function_crate(const char *fn)
{
	static const char *const skip[] = { "<", "&", "mut ", "*const ", "*mut ", "dyn ", "(", "[" };
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
			if (starts_with(fn, skip[i]))
				fn += strlen(skip[i]), again = true;
	}
	size_t n = 0;
	while (ident_char(fn[n]))
		n++;
	if (n == 0 || isdigit((unsigned char)fn[0]) || !starts_with(fn + n, "::"))
		return (struct span){ fn, 0 };
	return (struct span){ fn, n };
}

static bool own_function(const char *fn)
{
	if (!fn)
		return false;
	struct span crate = function_crate(fn);
	if (crate.n == 0)
		return false;
	for (size_t i = 0; i < sizeof foreign_crates / sizeof foreign_crates[0]; i++)
		if (span_eq(crate, foreign_crates[i]))
			return false;
	return true;
}

bool tg_is_own_code(const char *function, const char *file)
{
	if (file && *file)
		return own_path(file);
	return own_function(function);
}

