/* Spec file (YAML) parsing and validation. Contract: /work/shared/spec.md.
 *
 * The file is read whole, checked by a first pass over libyaml's events (syntax,
 * one document, nesting depth), then loaded into a libyaml document. Every mapping of the spec is
 * described by a `struct table`: its known keys, each with a handler and, for the
 * generic handlers (string, duration, integer, sub-mapping), where the value goes and
 * its limits. walk_map() checks a mapping's keys against its table (wrong type,
 * unknown, duplicate) and calls the handlers in document order, so the first error
 * reported is the first one in the file; the table's `check` hook then applies
 * cross-field rules (required keys,
 * exactly one of) using the key nodes walk_map saw.
 *
 * Adding a key is one line in its table, plus a handler when none of the generic
 * ones fits.
 *
 * Every error is one line: "FILE:LINE:COLUMN: field.path: what is wrong", LINE and
 * COLUMN 1-based from the libyaml mark of the offending node. Values echoed in messages
 * are quoted with control characters escaped and long ones truncated.
 */
#define _GNU_SOURCE
#include "spec.h"
#include "glob.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
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
#define MAX_FIELDS 24             /* keys per table */
#define MAX_DEPTH 64              /* the spec nests ~8 deep; libyaml slows down past ~10^4 */
#define MAX_VALUES 200000         /* values visited, aliases expanded: no alias bombs */
#define MAX_TEXT_BYTES (64u << 20) /* text read, aliases expanded: 200000 values of 4KB are 800MB */
#define MAX_PARALLEL_DEPTH 4      /* parallel inside parallel ...; also stops recursive aliases */
#define MAX_BODY_BYTES (16u << 20) /* http.body_file */
#define MAX_REGEX_BYTES 512       /* ready.log: compile time grows quadratically */
#define MAX_REGEX_NODES 20000     /* ready.log: see regex_cost */
#define MAX_REGEX_NESTING 2       /* ready.log: (a*)+ at most */
#define MAX_RATE 1e9              /* requests per second */

/* ------------------------------------------------------------------ strings */

void tg_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* A growable NULL-terminated vector of malloc'd strings. */
struct strv {
	char **v;
	size_t n, cap;
};

static int strv_push(struct strv *sv, char *s)
{
	if (!s)
		return -ENOMEM;
	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof *v);
		if (!v) {
			free(s);
			return -ENOMEM;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

/* Hands the vector over, NULL-terminated even when empty; NULL when out of memory. */
static char **strv_take(struct strv *sv)
{
	char **v = sv->v ? sv->v : calloc(1, sizeof *v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
	return v;
}

static void strv_drop(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* A growable byte buffer. */
struct sbuf {
	char *p;
	size_t n, cap;
};

static int sbuf_putc(struct sbuf *b, char ch)
{
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	b->p[b->n++] = ch;
	b->p[b->n] = '\0';
	return 0;
}

/* Writes S (LEN bytes) as a double-quoted, escaped, possibly truncated string. */
static void quote(char *out, size_t outlen, const char *s, size_t len)
{
	size_t o = 0, cut = len;
	bool more = false;
#define PUT(ch) do { if (o + 1 < outlen) out[o++] = (ch); } while (0)
	if (len > QUOTE_SRC) {
		cut = QUOTE_SRC;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--; /* do not split a UTF-8 sequence */
		more = true;
	}
	PUT('"');
	for (size_t i = 0; i < cut; i++) {
		unsigned char ch = (unsigned char)s[i];
		const char *esc = NULL;
		char hex[8];
		switch (ch) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\t': esc = "\\t"; break;
		case '\r': esc = "\\r"; break;
		default:
			if (ch < 0x20 || ch == 0x7f) {
				snprintf(hex, sizeof hex, "\\x%02x", ch);
				esc = hex;
			}
		}
		if (esc)
			for (; *esc; esc++)
				PUT(*esc);
		else
			PUT((char)ch);
	}
	if (more) {
		PUT('.');
		PUT('.');
		PUT('.');
	}
	PUT('"');
	if (outlen)
		out[o] = '\0';
#undef PUT
}

/* Messages are one line, whatever a file name or key holds. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* ---------------------------------------------------------------- durations */

static const struct {
	const char *name;
	uint64_t ns;
} dur_units[] = {
	{ "ns", 1 },
	{ "us", NS_PER_US },
	{ "\xc2\xb5s", NS_PER_US }, /* µs, MICRO SIGN */
	{ "\xce\xbcs", NS_PER_US }, /* μs, GREEK SMALL LETTER MU */
	{ "ms", NS_PER_MS },
	{ "s", NS_PER_S },
	{ "m", NS_PER_M },
	{ "h", NS_PER_H },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int tg_parse_duration_msg(const char *s, uint64_t *ns, char *why, size_t whylen)
{
	char q[QUOTE_LEN];
	char dummy[8];
	if (!why || !whylen) {
		why = dummy;
		whylen = sizeof dummy;
	}
	why[0] = '\0';
	if (!s) {
		snprintf(why, whylen, "expected a duration like 250ms, got nothing");
		return -EINVAL;
	}
	size_t len = strlen(s);
	quote(q, sizeof q, s, len);

	const char *p = s;
	if (*p == '-' && (is_digit(p[1]) || p[1] == '.')) {
		snprintf(why, whylen, "a duration cannot be negative, got %s", q);
		return -EINVAL;
	}
	if (!is_digit(*p) && !(*p == '.' && is_digit(p[1]))) {
		snprintf(why, whylen, "expected a duration like 250ms, got %s", q);
		return -EINVAL;
	}

	unsigned __int128 total = 0;
	bool overflow = false, first = true;
	for (; *p; first = false) {
		if (!is_digit(*p) && !(*p == '.' && is_digit(p[1]))) {
			snprintf(why, whylen, "expected a duration like 250ms or 1m30s, got %s", q);
			return -EINVAL;
		}
		unsigned __int128 ip = 0, frac = 0, scale = 1;
		for (; is_digit(*p); p++) {
			if (ip <= UINT64_MAX)
				ip = ip * 10 + (unsigned)(*p - '0');
		}
		if (*p == '.') {
			p++;
			if (!is_digit(*p)) {
				snprintf(why, whylen, "expected a duration like 1.5s, got %s", q);
				return -EINVAL;
			}
			for (; is_digit(*p); p++) {
				if (scale < 1000000000000000000ull) { /* 18 digits: far below 1ns */
					frac = frac * 10 + (unsigned)(*p - '0');
					scale *= 10;
				}
			}
		}
		const char *u = p;
		while (*p && !is_digit(*p) && *p != '.')
			p++;
		size_t ulen = (size_t)(p - u);
		if (ulen == 0 && *p == '.') {
			snprintf(why, whylen, "expected a duration like 1.5s, got %s", q);
			return -EINVAL;
		}
		if (ulen == 0) {
			if (first)
				snprintf(why, whylen,
					 "a duration needs a unit (ns, us, ms, s, m or h), got %s (write %sms or %ss)",
					 q, len < 24 ? s : "N", len < 24 ? s : "N");
			else
				snprintf(why, whylen,
					 "a duration needs a unit after every number (ns, us, ms, s, m or h), got %s",
					 q);
			return -EINVAL;
		}
		uint64_t unit = 0;
		for (size_t i = 0; i < N(dur_units); i++)
			if (strlen(dur_units[i].name) == ulen && !memcmp(dur_units[i].name, u, ulen))
				unit = dur_units[i].ns;
		if (!unit) {
			char uq[QUOTE_LEN];
			quote(uq, sizeof uq, u, ulen);
			if (isspace((unsigned char)*u))
				snprintf(why, whylen,
					 "expected a duration like 250ms (no space before the unit), got %s", q);
			else
				snprintf(why, whylen,
					 "unknown duration unit %s in %s (expected ns, us, \xc2\xb5s, ms, s, m or h)",
					 uq, q);
			return -EINVAL;
		}
		if (ip > UINT64_MAX) {
			overflow = true;
			break;
		}
		total += ip * unit + frac * unit / scale;
		if (total > UINT64_MAX) {
			overflow = true;
			break;
		}
	}
	if (overflow) {
		snprintf(why, whylen, "duration %s is too large", q);
		return -EINVAL;
	}
	if (ns)
		*ns = (uint64_t)total;
	return 0;
}

int tg_parse_duration(const char *s, uint64_t *ns)
{
	return tg_parse_duration_msg(s, ns, NULL, 0);
}

/* ------------------------------------------------------- rates, percentages */

/* A plain decimal at S: digits with an optional fraction (".5" too); no sign, no
 * exponent. Returns the byte count, 0 when S does not start with one. */
static size_t decimal_len(const char *s)
{
	size_t i = 0;
	while (is_digit(s[i]))
		i++;
	if (s[i] == '.' && is_digit(s[i + 1])) {
		i++;
		while (is_digit(s[i]))
			i++;
	} else if (s[i] == '.' && i) {
		return 0; /* "1." */
	}
	return i;
}

static double decimal_value(const char *s, size_t n)
{
	char buf[64];
	if (n >= sizeof buf) { /* long: only the magnitude matters; strtod copes */
		char *d = strndup(s, n);
		double v = d ? strtod(d, NULL) : HUGE_VAL;
		free(d);
		return v;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return strtod(buf, NULL);
}

/* The number that starts a rate or a percentage ("100" of "100/s"): a missing
 * or negative number is refused, naming WHAT and giving EXAMPLE. S is quoted
 * into Q for the caller's messages; WHY may be NULL. */
static int leading_number(const char *s, const char *what, const char *example, char *q,
			  char **why, size_t *whylen, char *dummy, size_t *n, double *v)
{
	if (!*why || !*whylen) {
		*why = dummy;
		*whylen = 8;
	}
	(*why)[0] = '\0';
	if (!s) {
		snprintf(*why, *whylen, "expected %s like %s, got nothing", what, example);
		return -EINVAL;
	}
	quote(q, QUOTE_LEN, s, strlen(s));
	if (*s == '-' && (is_digit(s[1]) || s[1] == '.')) {
		snprintf(*why, *whylen, "%s cannot be negative, got %s", what, q);
		return -EINVAL;
	}
	*n = decimal_len(s);
	if (!*n) {
		snprintf(*why, *whylen, "expected %s like %s, got %s", what, example, q);
		return -EINVAL;
	}
	*v = decimal_value(s, *n);
	return 0;
}

int tg_parse_rate(const char *s, double *per_s, char *why, size_t whylen)
{
	char q[QUOTE_LEN], dummy[8];
	size_t n;
	double v, div;

	if (leading_number(s, "a rate", "100/s", q, &why, &whylen, dummy, &n, &v))
		return -EINVAL;
	const char *u = s + n;
	if (!*u) {
		snprintf(why, whylen, "a rate needs a unit (/s or /m), got %s (write %s/s)", q,
			 strlen(s) < 24 ? s : "N");
		return -EINVAL;
	}
	if (!strcmp(u, "/s")) {
		div = 1;
	} else if (!strcmp(u, "/m")) {
		div = 60;
	} else {
		char uq[QUOTE_LEN];
		quote(uq, sizeof uq, u, strlen(u));
		if (isspace((unsigned char)*u) || (*u == '/' && isspace((unsigned char)u[1])))
			snprintf(why, whylen, "expected a rate like 100/s (no spaces), got %s", q);
		else if (*u == '/')
			snprintf(why, whylen, "unknown rate unit %s in %s (expected /s or /m)", uq, q);
		else
			snprintf(why, whylen, "expected a rate like 100/s or 0.5/s, got %s", q);
		return -EINVAL;
	}
	if (!(v > 0)) {
		snprintf(why, whylen, "a rate must be more than 0, got %s", q);
		return -EINVAL;
	}
	if (!isfinite(v) || v / div > MAX_RATE) {
		snprintf(why, whylen, "rate %s is too large (at most 1000000000/s)", q);
		return -EINVAL;
	}
	if (per_s)
		*per_s = v / div;
	return 0;
}

int tg_parse_percent(const char *s, double *pct, char *why, size_t whylen)
{
	char q[QUOTE_LEN], dummy[8];
	size_t n;
	double v;

	if (leading_number(s, "a percentage", "5%", q, &why, &whylen, dummy, &n, &v))
		return -EINVAL;
	if (!s[n]) {
		snprintf(why, whylen, "a percentage needs a %% sign, got %s (write %s%%)", q,
			 strlen(s) < 24 ? s : "N");
		return -EINVAL;
	}
	if (strcmp(s + n, "%")) {
		snprintf(why, whylen, "expected a percentage like 5%% or 0.5%%, got %s", q);
		return -EINVAL;
	}
	if (!isfinite(v)) {
		snprintf(why, whylen, "percentage %s is too large", q);
		return -EINVAL;
	}
	if (pct)
		*pct = v;
	return 0;
}

static uint64_t div_round(unsigned __int128 a, uint64_t b)
{
	return (uint64_t)((a + b / 2) / b);
}

void tg_format_duration(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = { { "us", NS_PER_US }, { "ms", NS_PER_MS }, { "s", NS_PER_S } };

	if (!buf || !len)
		return;
	if (ns < NS_PER_US) {
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
		return;
	}
	if (ns < NS_PER_M - NS_PER_S / 2) { /* below what rounds to a whole minute */
		for (size_t i = 0; i < N(units); i++) {
			uint64_t u = units[i].ns, r;
			if ((r = div_round((unsigned __int128)ns * 100, u)) < 1000) {
				snprintf(buf, len, "%llu.%02llu%s", (unsigned long long)(r / 100),
					 (unsigned long long)(r % 100), units[i].suffix);
				return;
			}
			if ((r = div_round((unsigned __int128)ns * 10, u)) < 1000) {
				snprintf(buf, len, "%llu.%llu%s", (unsigned long long)(r / 10),
					 (unsigned long long)(r % 10), units[i].suffix);
				return;
			}
			if ((r = div_round(ns, u)) < 1000) {
				snprintf(buf, len, "%llu%s", (unsigned long long)r, units[i].suffix);
				return;
			}
		}
	}
	uint64_t secs = div_round(ns, NS_PER_S);
	if (secs < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(secs / 60),
			 (unsigned long long)(secs % 60));
	else
		snprintf(buf, len, "%lluh%02llum%02llus", (unsigned long long)(secs / 3600),
			 (unsigned long long)(secs / 60 % 60), (unsigned long long)(secs % 60));
}

/* ------------------------------------------------------------------ signals */

static const struct {
	const char *name;
	int sig;
} signal_names[] = {
	{ "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
	{ "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "IOT", SIGIOT },     { "BUS", SIGBUS },
	{ "FPE", SIGFPE },     { "KILL", SIGKILL },     { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },   { "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD },   { "CONT", SIGCONT },     { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },     { "URG", SIGURG },     { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH },
	{ "IO", SIGIO },       { "POLL", SIGPOLL },     { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

int tg_parse_signal(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	if (is_digit(*s)) {
		long v = 0;
		for (const char *p = s; *p; p++) {
			if (!is_digit(*p) || v > 1000)
				return -EINVAL;
			v = v * 10 + (*p - '0');
		}
		return v >= 1 && v <= SIGRTMAX ? (int)v : -EINVAL;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < N(signal_names); i++)
		if (!strcasecmp(s, signal_names[i].name))
			return signal_names[i].sig;
	return -EINVAL;
}

/* ---------------------------------------------------------- command splitting */

/* Shell-like word splitting; on error WHY gets the reason and *ERR_OFF the byte offset
 * in S of the offending character. */
static int split_words(const char *s, char ***argv, char *why, size_t whylen, size_t *err_off)
{
	struct strv words = { 0 };
	struct sbuf cur = { 0 };
	bool in_word = false, in_dq = false;
	size_t i = 0, quote_start = 0;
	int rc = 0;
	const char *msg = NULL;

#define ADD(ch) do { if (sbuf_putc(&cur, (ch))) { rc = -ENOMEM; goto out; } } while (0)
	*argv = NULL;
	while (s[i]) {
		char ch = s[i];
		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			if (in_word) {
				if (strv_push(&words, strdup(cur.p ? cur.p : ""))) {
					rc = -ENOMEM;
					goto out;
				}
				cur.n = 0;
				if (cur.p)
					cur.p[0] = '\0';
				in_word = false;
			}
			i++;
		} else if (ch == '\\') {
			if (!s[i + 1]) {
				msg = "a backslash at the end of the command escapes nothing";
				goto bad;
			}
			if (s[i + 1] != '\n') { /* backslash-newline: a line continuation */
				ADD(s[i + 1]);
				in_word = true;
			}
			i += 2;
		} else if (ch == '\'') {
			quote_start = i++;
			in_word = true;
			while (s[i] && s[i] != '\'')
				ADD(s[i++]);
			if (!s[i]) {
				i = quote_start;
				msg = "unterminated single quote (')";
				goto bad;
			}
			i++;
		} else if (ch == '"') {
			quote_start = i++;
			in_word = true;
			while (s[i] && s[i] != '"') {
				if (s[i] == '\\' && s[i + 1] && strchr("$`\"\\\n", s[i + 1])) {
					if (s[i + 1] != '\n')
						ADD(s[i + 1]);
					i += 2;
				} else if (s[i] == '$' || s[i] == '`') {
					in_dq = true;
					msg = "a shell would expand this inside double quotes, but the command "
					      "is not run through a shell: escape it with a backslash, use single "
					      "quotes, or a list like [\"sh\", \"-c\", \"...\"]";
					goto bad;
				} else {
					ADD(s[i++]);
				}
			}
			if (!s[i]) {
				i = quote_start;
				msg = "unterminated double quote (\")";
				goto bad;
			}
			i++;
		} else if (strchr("|&;<>()$`", ch) || (!in_word && (ch == '#' || ch == '~'))) {
			msg = "the command is not run through a shell: quote this character, or use a "
			      "list like [\"sh\", \"-c\", \"...\"]";
			goto bad;
		} else {
			ADD(ch);
			in_word = true;
			i++;
		}
	}
	if (in_word && strv_push(&words, strdup(cur.p ? cur.p : ""))) {
		rc = -ENOMEM;
		goto out;
	}
	*argv = strv_take(&words);
	if (!*argv)
		rc = -ENOMEM;
	goto out;
bad:
	if (why && whylen) {
		if (s[i] == '\'' || s[i] == '"' || s[i] == '\\')
			snprintf(why, whylen, "%s", msg);
		else
			snprintf(why, whylen, "%s'%c': %s", in_dq ? "" : "unquoted ", s[i], msg);
	}
	if (err_off)
		*err_off = i;
	rc = -EINVAL;
out:
#undef ADD
	free(cur.p);
	strv_drop(&words);
	return rc;
}

int tg_split_command(const char *s, char ***argv, char *err, size_t errlen)
{
	size_t off = 0;
	if (err && errlen)
		err[0] = '\0';
	if (!s) {
		*argv = NULL;
		return -EINVAL;
	}
	return split_words(s, argv, err, errlen, &off);
}

/* ------------------------------------------------------------------- paths */

/* BASE (absolute) joined with REL unless REL is absolute; "." components, repeated and
 * trailing slashes dropped. ".." is kept: resolving it lexically is wrong across
 * symlinks, and the kernel resolves it right. */
static char *abs_join(const char *base, const char *rel)
{
	size_t bl = rel[0] == '/' ? 0 : strlen(base);
	char *tmp = malloc(bl + strlen(rel) + 2);
	if (!tmp)
		return NULL;
	if (bl)
		snprintf(tmp, bl + strlen(rel) + 2, "%s/%s", base, rel);
	else
		strcpy(tmp, rel);

	char *out = malloc(strlen(tmp) + 2), *o = out;
	if (!out) {
		free(tmp);
		return NULL;
	}
	for (char *p = tmp; *p;) {
		while (*p == '/')
			p++;
		char *e = p;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - p);
		if (n && !(n == 1 && *p == '.')) {
			*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p = e;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	free(tmp);
	return out;
}

static char *spec_folder(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return NULL;
	char *d = dirname(copy);
	char *r = realpath(d, NULL);
	if (!r) {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof cwd))
			r = abs_join(cwd, d);
	}
	free(copy);
	return r;
}

static char *default_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	static const char *const exts[] = { ".yaml", ".yml" };
	for (size_t i = 0; i < N(exts); i++) {
		size_t el = strlen(exts[i]);
		if (n > el && !strcmp(b + n - el, exts[i])) {
			n -= el;
			break;
		}
	}
	return strndup(b, n);
}

/* ------------------------------------------------------------ parse context */

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

static void format_at(char *out, size_t len, const char *file, size_t line0, size_t col0,
		      const char *path, const char *fmt, va_list ap)
{
	size_t n = 0;
	int w = snprintf(out, len, "%s:%zu:%zu: ", file, line0 + 1, col0 + 1);
	n = w < 0 ? 0 : (size_t)w;
	if (path && *path && n < len) {
		w = snprintf(out + n, len - n, "%s: ", path);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (n < len)
		vsnprintf(out + n, len - n, fmt, ap);
	one_line(out);
}

/* Records one error: the first in ERR, each in ALL; one past the cap halts the walk. */
static int vfail_at(struct ctx *c, size_t line0, size_t col0, const char *path, const char *fmt,
		    va_list ap)
{
	va_list again;

	if (c->nerrors == TG_SPEC_MAX_ERRORS) {
		if (c->all)
			c->all->more = true;
		c->halt = true;
		return -EINVAL;
	}
	if (!c->nerrors && c->err && c->errlen) {
		va_copy(again, ap);
		format_at(c->err, c->errlen, c->file, line0, col0, path, fmt, again);
		va_end(again);
	}
	if (c->all) {
		format_at(c->all->msg[c->nerrors], sizeof c->all->msg[0], c->file, line0, col0, path,
			  fmt, ap);
		c->all->n = c->nerrors + 1;
	}
	c->nerrors++;
	return -EINVAL;
}

/* After an error RC in one field or list item: true when the walk can go on to
 * the next (a value that was wrong, not memory or a budget that ran out). */
static bool go_on(const struct ctx *c, int rc)
{
	return rc == -EINVAL && !c->halt;
}

__attribute__((format(printf, 5, 6))) static int fail_at(struct ctx *c, size_t line0, size_t col0,
							  const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail_at(c, line0, col0, path, fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((format(printf, 4, 5))) static int fail(struct ctx *c, const yaml_node_t *n,
						       const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vfail_at(c, n->start_mark.line, n->start_mark.column, path, fmt, ap);
	va_end(ap);
	return rc;
}

static int oom(struct ctx *c)
{
	if (c->err && c->errlen) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->file);
		one_line(c->err);
	}
	return -ENOMEM;
}

static yaml_node_t *node(struct ctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

static bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* "nothing", "a list", "a mapping" or the quoted scalar. */
static const char *describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		quote(buf, len, (const char *)n->data.scalar.value, n->data.scalar.length);
		return buf;
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static int fail_type(struct ctx *c, const yaml_node_t *n, const char *path, const char *what)
{
	char q[QUOTE_LEN];
	return fail(c, n, path, "expected %s, got %s", what, describe(n, q, sizeof q));
}

/* Counts one more value visited. Aliases let a small file name the same subtree many
 * times over; what is visited, and copied, stays bounded. */
static int budget(struct ctx *c, const yaml_node_t *n, const char *path)
{
	if (++c->values <= MAX_VALUES)
		return 0;
	int rc = fail(c, n, path, "too many values (more than %d, counting what aliases repeat)",
		      MAX_VALUES);
	c->halt = true;
	return rc;
}

/* The text of a non-null scalar (no embedded NUL), or an error naming WHAT was expected. */
static int scalar(struct ctx *c, const yaml_node_t *n, const char *path, const char *what,
		  const char **out)
{
	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return fail_type(c, n, path, what);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return fail(c, n, path, "expected %s, got a string holding a NUL character", what);
	/* what is read is copied: an alias of a long string, repeated, must not be gigabytes */
	c->text += n->data.scalar.length;
	if (c->text > MAX_TEXT_BYTES) {
		int rc = fail(c, n, path, "too much text (more than %u MB, counting what aliases repeat)",
			      MAX_TEXT_BYTES >> 20);
		c->halt = true;
		return rc;
	}
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/* The column of byte OFF of scalar N's value when it can be known exactly (one line,
 * ASCII, no escapes), else the scalar's own column. */
static size_t scalar_col(const yaml_node_t *n, size_t off)
{
	const yaml_mark_t *s = &n->start_mark, *e = &n->end_mark;
	size_t len = n->data.scalar.length, quotes;
	switch (n->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE: quotes = 0; break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: quotes = 1; break;
	default: return s->column;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n->data.scalar.value[i] >= 0x80)
			return s->column;
	if (s->line != e->line || e->column - s->column != len + 2 * quotes)
		return s->column;
	return s->column + quotes + off;
}

static void join_key(char *out, const char *path, const char *key)
{
	snprintf(out, PATH_LEN, "%s%s%s", path, *path ? "." : "", key);
}

static void join_index(char *out, const char *path, size_t i)
{
	snprintf(out, PATH_LEN, "%s[%zu]", path, i);
}

/* ------------------------------------------------------------ tables, walker */

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

static int h_str(struct ctx *, const struct field *, yaml_node_t *, const char *, void *);
static int h_dur(struct ctx *, const struct field *, yaml_node_t *, const char *, void *);
static int h_u32(struct ctx *, const struct field *, yaml_node_t *, const char *, void *);
static int h_section(struct ctx *, const struct field *, yaml_node_t *, const char *, void *);

#define TABLE(fields, check) { fields, N(fields), check }
#define FIELD(k, fn) { k, fn, 0, 0, 0, NULL }
#define STR(k, T, m) { k, h_str, offsetof(T, m), 0, 0, NULL }
#define DUR(k, T, m, min) { k, h_dur, offsetof(T, m), min, UINT64_MAX, NULL }
#define U32(k, T, m, lo, hi) { k, h_u32, offsetof(T, m), lo, hi, NULL }
#define SECTION(k, table) { k, h_section, 0, 0, 0, &table }
#define SECTION_AT(k, fn, T, m, table) { k, fn, offsetof(T, m), 0, 0, &table }

static size_t field_index(const struct table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->fields[i].key, key))
			return i;
	return t->n;
}

static int unknown_key(struct ctx *c, const yaml_node_t *k, const char *path, const struct table *t)
{
	char q[QUOTE_LEN], list[512];
	size_t o = 0;
	list[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		if (!t->fields[i].fn)
			continue;
		int w = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", t->fields[i].key);
		if (w < 0 || (size_t)w >= sizeof list - o)
			break;
		o += (size_t)w;
	}
	quote(q, sizeof q, (const char *)k->data.scalar.value, k->data.scalar.length);
	if (!strcmp((const char *)k->data.scalar.value, "<<"))
		return fail(c, k, path, "unknown key %s (YAML merge keys are not supported; expected one of: %s)",
			    q, list);
	return fail(c, k, path, "unknown key %s (expected one of: %s)", q, list);
}

/* One key K of a mapping at PATH and its value V. */
static int walk_key(struct ctx *c, yaml_node_t *k, yaml_node_t *v, const char *path,
		    const struct table *t, void *obj, yaml_node_t **seen)
{
	char q[QUOTE_LEN], sub[PATH_LEN];
	if (k->type != YAML_SCALAR_NODE)
		return fail(c, k, path, "expected a key name, got %s", describe(k, q, sizeof q));
	const char *name = (const char *)k->data.scalar.value;
	size_t i = strlen(name) == k->data.scalar.length ? field_index(t, name) : t->n;
	if (i == t->n)
		return unknown_key(c, k, path, t);
	const struct field *f = &t->fields[i];
	join_key(sub, path, f->key);
	if (seen[i])
		return fail(c, k, sub, "duplicate key (first given on line %zu)",
			    seen[i]->start_mark.line + 1);
	seen[i] = k;
	return f->fn(c, f, v, sub, obj);
}

/* Checks NODE's keys against T and runs their handlers in document order. A null value
 * reads as an empty mapping. SEEN (MAX_FIELDS entries) gets each field's key node.
 * A wrong key or value does not stop the walk: `check` reports them all at once. */
static int walk_map(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
		    void *obj, yaml_node_t **seen)
{
	int bad = 0;
	for (size_t i = 0; i < MAX_FIELDS; i++)
		seen[i] = NULL;
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail_type(c, n, path, "a mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		if (!k || !v)
			return fail(c, n, path, "malformed YAML mapping");
		int rc = budget(c, k, path);
		if (!rc)
			rc = walk_key(c, k, v, path, t, obj, seen);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

static int h_section(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		     void *obj)
{
	yaml_node_t *seen[MAX_FIELDS];
	obj = (char *)obj + f->off;
	int rc = walk_map(c, v, path, f->sub, obj, seen);
	if (!rc && f->sub->check)
		rc = f->sub->check(c, v, path, obj, seen);
	return rc;
}

static int require(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
		   yaml_node_t *const *seen, const char *key)
{
	char sub[PATH_LEN];
	if (seen[field_index(t, key)])
		return 0;
	join_key(sub, path, key);
	return fail(c, n, sub, "required field is missing");
}

/* Exactly one of the keys in KINDS (NULL-terminated) must be present. */
static int exactly_one(struct ctx *c, yaml_node_t *n, const char *path, const struct table *t,
		       yaml_node_t *const *seen, const char *const *kinds)
{
	char list[256], sub[PATH_LEN];
	size_t o = 0;
	const char *first = NULL;
	yaml_node_t *first_key = NULL;

	list[0] = '\0';
	for (const char *const *k = kinds; *k; k++) {
		int w = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *k);
		if (w > 0 && (size_t)w < sizeof list - o)
			o += (size_t)w;
	}
	for (const char *const *k = kinds; *k; k++) {
		yaml_node_t *key = seen[field_index(t, *k)];
		if (!key)
			continue;
		if (!first_key || key->start_mark.index < first_key->start_mark.index) {
			first_key = key;
			first = *k;
		}
	}
	if (!first_key)
		return fail(c, n, path, "expected exactly one of: %s", list);
	for (const char *const *k = kinds; *k; k++) {
		yaml_node_t *key = seen[field_index(t, *k)];
		if (key && key != first_key) {
			join_key(sub, path, *k);
			return fail(c, key, sub, "only one of %s can be given (\"%s\" is on line %zu)",
				    list, first, first_key->start_mark.line + 1);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ generic handlers */

static int h_str(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	const char *s;
	int rc = scalar(c, v, path, "a string", &s);
	if (rc)
		return rc;
	if (!*s)
		return fail(c, v, path, "must not be empty");
	char **dst = (char **)((char *)obj + f->off);
	free(*dst);
	if (!(*dst = strdup(s)))
		return oom(c);
	return 0;
}

static int h_dur(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	const char *s;
	char why[2 * QUOTE_LEN], q[QUOTE_LEN], lim[32];
	uint64_t ns;
	int rc = scalar(c, v, path, "a duration like 250ms", &s);
	if (rc)
		return rc;
	if (tg_parse_duration_msg(s, &ns, why, sizeof why))
		return fail(c, v, path, "%s", why);
	if (ns < f->min) {
		quote(q, sizeof q, s, strlen(s));
		if (f->min == 1)
			return fail(c, v, path, "must be more than 0, got %s", q);
		tg_format_duration(f->min, lim, sizeof lim);
		return fail(c, v, path, "must be at least %s, got %s", lim, q);
	}
	*(uint64_t *)((char *)obj + f->off) = ns;
	return 0;
}

/* A decimal integer from LO to HI. */
static int parse_uint(struct ctx *c, yaml_node_t *v, const char *path, uint64_t lo, uint64_t hi,
		      uint64_t *out)
{
	char what[96], q[QUOTE_LEN];
	const char *s;
	snprintf(what, sizeof what, "an integer from %llu to %llu", (unsigned long long)lo,
		 (unsigned long long)hi);
	int rc = scalar(c, v, path, what, &s);
	if (rc)
		return rc;
	uint64_t x = 0;
	bool ok = is_digit(*s);
	for (const char *p = s; ok && *p; p++) {
		if (!is_digit(*p) || x > (UINT64_MAX - 9) / 10)
			ok = false;
		else
			x = x * 10 + (uint64_t)(*p - '0');
	}
	if (!ok || x < lo || x > hi)
		return fail(c, v, path, "expected %s, got %s", what, describe(v, q, sizeof q));
	*out = x;
	return 0;
}

static int h_u32(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	uint64_t x;
	int rc = parse_uint(c, v, path, f->min, f->max, &x);
	if (!rc)
		*(uint32_t *)((char *)obj + f->off) = (uint32_t)x;
	return rc;
}

/* "64KB", "16MB", "1GB" (K = 1024), with or without B or iB, any case, or
 * plain bytes; 0 when S is none of these or too big. */
static uint64_t parse_bytes(const char *s)
{
	static const char *const units[] = { "", "k", "m", "g" };
	uint64_t x = 0;
	const char *p = s;

	for (; is_digit(*p); p++) {
		if (x > (UINT64_MAX - 9) / 10)
			return 0;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return 0;
	while (*p == ' ')
		p++;
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		size_t n = strlen(units[u]);

		if (strncasecmp(p, units[u], n) || (strcasecmp(p + n, "") && strcasecmp(p + n, "b") &&
						     (!n || strcasecmp(p + n, "ib"))))
			continue;
		return x <= UINT64_MAX >> (10 * u) ? x << (10 * u) : 0;
	}
	return 0;
}

static void format_bytes(uint64_t x, char *out, size_t len)
{
	static const char *const units[] = { "B", "KB", "MB", "GB" };
	size_t u = 0;

	while (u < 3 && x && x % 1024 == 0) {
		x /= 1024;
		u++;
	}
	snprintf(out, len, "%llu%s", (unsigned long long)x, units[u]);
}

/* A size in bytes from F->min (at least a page) to F->max, into *X. */
static int size_in_range(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			 uint64_t *x)
{
	char q[QUOTE_LEN], lo[32], hi[32];
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), min = page > f->min ? page : f->min;
	const char *s;
	int rc = scalar(c, v, path, "a size like 64KB or 16MB", &s);

	if (rc)
		return rc;
	if (!(*x = parse_bytes(s)))
		return fail(c, v, path, "expected a size like 64KB or 16MB, got %s", describe(v, q, sizeof q));
	format_bytes(min, lo, sizeof lo);
	format_bytes(f->max, hi, sizeof hi);
	if (*x < min || *x > f->max)
		return fail(c, v, path, "must be from %s to %s, got %s", lo, hi, describe(v, q, sizeof q));
	return 0;
}

/* A uint32_t size: probe.stack_copy. */
static int h_size32(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	uint64_t x;
	int rc = size_in_range(c, f, v, path, &x);

	if (!rc)
		*(uint32_t *)((char *)obj + f->off) = (uint32_t)x;
	return rc;
}

/* The BPF ring buffer's size: the kernel takes only a power of two that is a
 * multiple of the page size, so anything else is refused with the two
 * nearest sizes that work. */
static int h_ring_buffer(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			 void *obj)
{
	char q[QUOTE_LEN], lo[32], hi[32];
	uint64_t x;
	int rc = size_in_range(c, f, v, path, &x);

	if (rc)
		return rc;
	if (x & (x - 1)) {
		uint64_t down = 1ull << (63 - __builtin_clzll(x));

		format_bytes(down, lo, sizeof lo);
		format_bytes(down << 1, hi, sizeof hi);
		return fail(c, v, path, "must be a power of two (a BPF ring buffer rule), got %s: use %s or %s",
			    describe(v, q, sizeof q), lo, hi);
	}
	*(uint64_t *)((char *)obj + f->off) = x;
	return 0;
}

/* probe.unwind: auto, fp or dwarf. */
static int h_unwind(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	static const char *const names[] = { [TG_UNWIND_AUTO] = "auto", [TG_UNWIND_FP] = "fp",
					     [TG_UNWIND_DWARF] = "dwarf" };
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "auto, fp or dwarf", &s);

	(void)f;
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0) {
			((struct tg_spec *)obj)->probe.unwind = (enum tg_unwind)i;
			return 0;
		}
	return fail(c, v, path, "expected auto, fp or dwarf (how user stacks are walked), got %s",
		    describe(v, q, sizeof q));
}

/* An argv: a list of strings, or one string split like a shell would. */
static int parse_argv(struct ctx *c, yaml_node_t *v, const char *path, char ***out)
{
	char why[512], sub[PATH_LEN];
	const char *s;
	int rc;

	tg_strv_free(*out);
	*out = NULL;
	if (v->type == YAML_SEQUENCE_NODE) {
		struct strv sv = { 0 };
		size_t i = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
		     it++, i++) {
			yaml_node_t *item = node(c, *it);
			if (!item)
				continue;
			join_index(sub, path, i);
			if ((rc = budget(c, item, sub)) || (rc = scalar(c, item, sub, "a string", &s))) {
				strv_drop(&sv);
				return rc;
			}
			if (i == 0 && !*s) {
				strv_drop(&sv);
				return fail(c, item, sub, "the program name is empty");
			}
			if (strv_push(&sv, strdup(s))) {
				strv_drop(&sv);
				return oom(c);
			}
		}
		if (sv.n == 0)
			return fail(c, v, path, "the command is empty");
		if (!(*out = strv_take(&sv)))
			return oom(c);
		return 0;
	}
	if ((rc = scalar(c, v, path, "a command (a list like [\"./server\", \"--port\", \"3000\"] or a string)",
			 &s)))
		return rc;
	size_t off = 0;
	rc = split_words(s, out, why, sizeof why, &off);
	if (rc == -ENOMEM)
		return oom(c);
	if (rc)
		return fail_at(c, v->start_mark.line, scalar_col(v, off), path, "%s", why);
	if (!(*out)[0])
		return fail(c, v, path, "the command is empty");
	return 0;
}

/* ------------------------------------------------------------------ target */

static int h_version(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		     void *obj)
{
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "1", &s);
	if (rc)
		return rc;
	if (strcmp(s, "1"))
		return fail(c, v, path, "expected 1 (the only spec version this tokio-guard reads), got %s",
			    describe(v, q, sizeof q));
	((struct tg_spec *)obj)->version = 1;
	return 0;
}

static int h_command(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		     void *obj)
{
	return parse_argv(c, v, path, &((struct tg_spec *)obj)->target.argv);
}

/* A folder relative to the spec's, made absolute, at OFF. */
static int h_cwd(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	char **dst = (char **)((char *)obj + f->off);
	const char *dir;
	int rc = scalar(c, v, path, "a folder", &dir);
	if (rc)
		return rc;
	if (!*dir)
		return fail(c, v, path, "must not be empty (write . for the spec's folder)");
	free(*dst);
	if (!(*dst = abs_join(c->dir, dir)))
		return oom(c);
	return 0;
}

struct env_entry {
	const char *key;
	yaml_node_t *node;
	size_t i;
};

static int env_cmp(const void *a, const void *b)
{
	const struct env_entry *x = a, *y = b;
	int r = strcmp(x->key, y->key);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

static int header_cmp(const void *a, const void *b)
{
	const struct env_entry *x = a, *y = b;
	int r = strcasecmp(x->key, y->key);
	return r ? r : (x->i > y->i) - (x->i < y->i);
}

/* HTTP header names are tokens (RFC 9110), values one line. */
static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

/* A mapping of strings to strings into *OUT, as NULL-terminated "KEY=VALUE" (env) or
 * "Name: value" (HEADERS; names compared without case) lines. */
static int parse_kv(struct ctx *c, yaml_node_t *v, const char *path, char ***out, bool headers)
{
	char q[QUOTE_LEN], sub[PATH_LEN];
	int rc = 0;

	if (is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return fail_type(c, v, path, headers ? "a mapping of header names to values"
						     : "a mapping of variable names to values");
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	struct env_entry *ent = calloc(n + 1, sizeof *ent);
	struct strv sv = { 0 };
	if (!ent)
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
		yaml_node_t *k = node(c, p->key), *val = node(c, p->value);
		const char *name, *value;
		if (!k || !val) {
			rc = fail(c, v, path, "malformed YAML mapping");
			goto out;
		}
		if ((rc = budget(c, k, path)))
			goto out;
		const char *what = headers ? "a header name" : "a variable name";
		if (k->type != YAML_SCALAR_NODE || is_null(k)) {
			rc = fail(c, k, path, "expected %s, got %s", what, describe(k, q, sizeof q));
			goto out;
		}
		if ((rc = scalar(c, k, path, what, &name)))
			goto out;
		join_key(sub, path, name);
		if (!headers && strchr(name, '=')) {
			rc = fail(c, k, sub, "a variable name cannot hold '='");
			goto out;
		}
		if (headers && !header_name_ok(name)) {
			rc = fail(c, k, sub, "expected a header name like Content-Type, got %s",
				  describe(k, q, sizeof q));
			goto out;
		}
		if (is_null(val)) {
			rc = fail(c, val, sub, "expected a value, got nothing (write %s: \"\" for an empty value)",
				  name);
			goto out;
		}
		if ((rc = scalar(c, val, sub, "a string", &value)))
			goto out;
		if (headers && strpbrk(value, "\r\n")) {
			rc = fail(c, val, sub, "a header value must be one line, got %s",
				  describe(val, q, sizeof q));
			goto out;
		}
		size_t len = strlen(name) + strlen(value) + 3;
		char *kv = malloc(len);
		if (!kv) {
			rc = oom(c);
			goto out;
		}
		snprintf(kv, len, headers ? "%s: %s" : "%s=%s", name, value);
		if (strv_push(&sv, kv)) {
			rc = oom(c);
			goto out;
		}
		ent[i] = (struct env_entry){ name, k, i };
	}
	qsort(ent, n, sizeof *ent, headers ? header_cmp : env_cmp);
	for (size_t i = 1; i < n; i++) {
		if (headers ? !strcasecmp(ent[i].key, ent[i - 1].key) : !strcmp(ent[i].key, ent[i - 1].key)) {
			join_key(sub, path, ent[i].key);
			rc = fail(c, ent[i].node, sub, "duplicate key (first given on line %zu)",
				  ent[i - 1].node->start_mark.line + 1);
			goto out;
		}
	}
	tg_strv_free(*out);
	if (!(*out = strv_take(&sv)))
		rc = oom(c);
out:
	strv_drop(&sv);
	free(ent);
	return rc;
}

static int h_env(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	return parse_kv(c, v, path, (char ***)((char *)obj + f->off), false);
}

/* "host:port" or "[v6]:port" into *HOST and *PORT (malloc'd). */
static int parse_addr(struct ctx *c, yaml_node_t *v, const char *path, char **hostp, char **portp)
{
	char q[QUOTE_LEN];
	const char *a, *host, *port;
	size_t hl;
	int rc = scalar(c, v, path, "an address like 127.0.0.1:3000", &a);
	if (rc)
		return rc;
	quote(q, sizeof q, a, strlen(a));
	if (a[0] == '[') {
		const char *e = strchr(a, ']');
		if (!e || e == a + 1 || e[1] != ':')
			return fail(c, v, path, "expected an address like [::1]:3000, got %s", q);
		host = a + 1;
		hl = (size_t)(e - host);
		port = e + 2;
	} else {
		const char *colon = strrchr(a, ':');
		if (!colon || colon == a)
			return fail(c, v, path,
				    "expected host:port like 127.0.0.1:3000 or [::1]:3000, got %s", q);
		host = a;
		hl = (size_t)(colon - a);
		port = colon + 1;
		if (memchr(host, ':', hl))
			return fail(c, v, path, "an IPv6 address needs brackets, like [::1]:3000, got %s", q);
	}
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)host[i] <= 0x20 || host[i] == 0x7f || host[i] == '/' ||
		    host[i] == '[' || host[i] == ']')
			return fail(c, v, path,
				    "expected host:port like 127.0.0.1:3000 or [::1]:3000, got %s", q);
	unsigned long p = 0;
	bool ok = *port && strlen(port) <= 5;
	for (const char *x = port; ok && *x; x++)
		ok = is_digit(*x);
	if (ok)
		p = strtoul(port, NULL, 10);
	if (!ok || p < 1 || p > 65535)
		return fail(c, v, path, "expected a port from 1 to 65535 after the host, got %s", q);
	char *h = strndup(host, hl), *pt = strdup(port);
	if (!h || !pt) {
		free(h);
		free(pt);
		return oom(c);
	}
	free(*hostp);
	free(*portp);
	*hostp = h;
	*portp = pt;
	return 0;
}

static int h_ready_tcp(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		       void *obj)
{
	struct tg_spec *s = obj;
	int rc = parse_addr(c, v, path, &s->target.ready.tcp_host, &s->target.ready.tcp_port);
	if (!rc)
		s->target.ready.kind = TG_READY_TCP;
	return rc;
}

/* An http:// or https:// URL with a host, no blanks or control characters. */
static int parse_url(struct ctx *c, yaml_node_t *v, const char *path, char **out)
{
	char q[QUOTE_LEN];
	const char *u;
	int rc = scalar(c, v, path, "a URL like http://127.0.0.1:3000/", &u);
	if (rc)
		return rc;
	size_t skip = !strncasecmp(u, "http://", 7) ? 7 : !strncasecmp(u, "https://", 8) ? 8 : 0;
	quote(q, sizeof q, u, strlen(u));
	if (!skip)
		return fail(c, v, path, "expected a URL starting with http:// or https://, got %s", q);
	if (!u[skip] || strchr("/?#:", u[skip]))
		return fail(c, v, path, "the URL has no host, got %s", q);
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return fail(c, v, path, "a URL cannot hold blanks or control characters (write %%20), got %s",
				    q);
	free(*out);
	if (!(*out = strdup(u)))
		return oom(c);
	return 0;
}

static int h_ready_http(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			void *obj)
{
	struct tg_spec *s = obj;
	int rc = parse_url(c, v, path, &s->target.ready.http_url);
	if (!rc)
		s->target.ready.kind = TG_READY_HTTP;
	return rc;
}

/* What glibc's regcomp would make of RE, before it runs: it copies the operand of a+
 * once and of a{n,m} m times, and computes epsilon closures whose cost explodes with
 * repetitions of repeated groups, so "a++++...", "((a{9}){9}){9}" or "((((a*)+)+)+)+"
 * take seconds to minutes and gigabytes from a few dozen bytes. Sets *SIZE to the
 * approximate parse tree size (saturating at REGEX_CAP); returns REGEX_OK,
 * REGEX_STACKED (a repetition operator right after another) or REGEX_NESTED
 * (repetitions nested more than MAX_REGEX_NESTING deep). */
#define REGEX_CAP 1000000000ull
enum { REGEX_OK, REGEX_STACKED, REGEX_NESTED };

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b > REGEX_CAP ? REGEX_CAP : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > REGEX_CAP / b ? REGEX_CAP : a * b;
}

static int regex_cost(const char *re, uint64_t *size)
{
	struct frame {
		uint64_t total, last; /* nodes so far; nodes of the last atom */
		int nest, last_nest;  /* deepest repetition nesting so far; of the last atom */
	} st[MAX_REGEX_BYTES + 2];
	size_t d = 0;
	bool after_rep = false;
	st[0] = (struct frame){ 0 };
	*size = 0;
	for (const char *p = re; *p; p++) {
		uint64_t atom = 1, copies = 0;
		int atom_nest = 0;
		bool rep = *p == '*' || *p == '?' || *p == '+' || (*p == '{' && is_digit(p[1]));
		if (rep && after_rep)
			return REGEX_STACKED;
		after_rep = rep;
		switch (*p) {
		case '\\':
			if (p[1])
				p++;
			break;
		case '[': /* a bracket expression is one node: skip to its end */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					char close = p[1];
					const char *e = p + 2;
					while (*e && !(*e == close && e[1] == ']'))
						e++;
					p = *e ? e + 1 : e - 1;
				}
				p++;
			}
			if (!*p)
				p--;
			break;
		case '(':
			if (d + 1 < sizeof st / sizeof st[0])
				st[++d] = (struct frame){ 0 };
			continue;
		case ')':
			if (d) {
				atom = sat_add(st[d].total, 1);
				atom_nest = st[d].nest;
				d--;
			}
			break;
		case '|':
			st[d].last = 0;
			st[d].last_nest = 0;
			continue;
		case '*':
		case '?':
			copies = 1;
			break;
		case '+':
			copies = 2;
			break;
		case '{': {
			uint64_t n = 0, m = 0;
			bool comma = false;
			for (p++; is_digit(*p) || *p == ','; p++) {
				if (*p == ',')
					comma = true;
				else if (comma)
					m = m < 100000 ? m * 10 + (uint64_t)(*p - '0') : m;
				else
					n = n < 100000 ? n * 10 + (uint64_t)(*p - '0') : n;
			}
			if (!*p)
				p--;
			copies = (m > n ? m : n) + 1;
			break;
		}
		default:
			break;
		}
		struct frame *f = &st[d];
		if (copies) { /* a repetition of the last atom */
			f->total = sat_add(f->total, sat_mul(f->last, copies - 1));
			f->last = sat_mul(f->last, copies);
			f->last_nest++;
			if (f->last_nest > MAX_REGEX_NESTING)
				return REGEX_NESTED;
			if (f->last_nest > f->nest)
				f->nest = f->last_nest;
			continue;
		}
		f->total = sat_add(f->total, atom);
		f->last = atom;
		f->last_nest = atom_nest;
		if (atom_nest > f->nest)
			f->nest = atom_nest;
	}
	uint64_t total = st[d].total;
	while (d--)
		total = sat_add(total, st[d].total);
	*size = total;
	return REGEX_OK;
}

static int h_ready_log(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		       void *obj)
{
	struct tg_spec *s = obj;
	char q[QUOTE_LEN], why[256];
	const char *re;
	regex_t rx;
	int rc = scalar(c, v, path, "a regular expression like \"listening on\"", &re);
	if (rc)
		return rc;
	if (!*re)
		return fail(c, v, path, "must not be empty (it would match any line)");
	quote(q, sizeof q, re, strlen(re));
	if (strlen(re) > MAX_REGEX_BYTES)
		return fail(c, v, path, "regular expression too long (more than %d bytes)", MAX_REGEX_BYTES);
	uint64_t size;
	switch (regex_cost(re, &size)) {
	case REGEX_STACKED:
		return fail(c, v, path,
			    "regular expression %s has repetition operators one after another, like *+ or *? "
			    "(POSIX regular expressions have no lazy or possessive forms: write one)",
			    q);
	case REGEX_NESTED:
		return fail(c, v, path,
			    "regular expression %s nests repetitions more than %d deep, like ((a*)+)+ "
			    "(too slow to compile)",
			    q, MAX_REGEX_NESTING);
	}
	if (size > MAX_REGEX_NODES)
		return fail(c, v, path,
			    "regular expression %s is too complex (its repetitions, + and {n,m}, expand to more than %d parts)",
			    q, MAX_REGEX_NODES);
	int e = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (e) {
		regerror(e, &rx, why, sizeof why);
		return fail(c, v, path, "invalid regular expression %s: %s", q, why);
	}
	regfree(&rx);
	free(s->target.ready.log_regex);
	if (!(s->target.ready.log_regex = strdup(re)))
		return oom(c);
	s->target.ready.kind = TG_READY_LOG;
	return 0;
}

static int h_ready_delay(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			 void *obj)
{
	int rc = h_dur(c, f, v, path, obj);
	if (!rc)
		((struct tg_spec *)obj)->target.ready.kind = TG_READY_DELAY;
	return rc;
}

static int h_user(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_spec *s = obj;
	char q[QUOTE_LEN];
	const char *u;
	int rc = scalar(c, v, path, "a user name or a numeric uid", &u);
	if (rc)
		return rc;
	quote(q, sizeof q, u, strlen(u));
	if (!*u)
		return fail(c, v, path, "must not be empty");
	if (is_digit(*u)) {
		uint64_t x = 0;
		bool ok = true;
		for (const char *p = u; ok && *p; p++) {
			ok = is_digit(*p) && x <= 4294967294ull;
			x = x * 10 + (uint64_t)(*p - '0');
		}
		if (ok && x <= 4294967294ull)
			goto store;
		if (!ok) {
			const char *p = u;
			while (is_digit(*p))
				p++;
			if (*p)
				goto name; /* "1abc" is a (strange) name */
		}
		return fail(c, v, path, "expected a uid from 0 to 4294967294, got %s", q);
	}
name:
	if (*u == '-')
		return fail(c, v, path, "expected a user name or a numeric uid, got %s", q);
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == ':' || *p == '/')
			return fail(c, v, path, "expected a user name or a numeric uid, got %s", q);
store:
	free(s->target.user);
	if (!(s->target.user = strdup(u)))
		return oom(c);
	return 0;
}

static int h_signal(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		    void *obj)
{
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "a signal like SIGTERM", &s);
	if (rc)
		return rc;
	int sig = tg_parse_signal(s);
	if (sig < 0)
		return fail(c, v, path, "unknown signal %s (expected a name like SIGTERM, TERM or INT, or a number like 15)",
			    describe(v, q, sizeof q));
	((struct tg_spec *)obj)->target.stop.signal = sig;
	return 0;
}

static const char *const ready_kinds[] = { "tcp", "http", "log", "delay", NULL };

static const struct field ready_fields[] = {
	FIELD("tcp", h_ready_tcp),
	FIELD("http", h_ready_http),
	FIELD("log", h_ready_log),
	{ "delay", h_ready_delay, offsetof(struct tg_spec, target.ready.delay_ns), 0, UINT64_MAX, NULL },
	DUR("timeout", struct tg_spec, target.ready.timeout_ns, 1),
};

static int ready_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen);
static const struct table ready_table = TABLE(ready_fields, ready_check);

static int ready_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen)
{
	return exactly_one(c, n, path, &ready_table, seen, ready_kinds);
}

static const struct field stop_fields[] = {
	FIELD("signal", h_signal),
	DUR("grace", struct tg_spec, target.stop.grace_ns, 0),
};
static const struct table stop_table = TABLE(stop_fields, NULL);

static const struct field target_fields[] = {
	FIELD("command", h_command),
	{ "cwd", h_cwd, offsetof(struct tg_spec, target.cwd), 0, 0, NULL },
	{ "env", h_env, offsetof(struct tg_spec, target.env), 0, 0, NULL },
	FIELD("user", h_user),
	SECTION("ready", ready_table),
	SECTION("stop", stop_table),
};

static int target_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			yaml_node_t *const *seen);
static const struct table target_table = TABLE(target_fields, target_check);

static int target_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			yaml_node_t *const *seen)
{
	return require(c, n, path, &target_table, seen, "command");
}

/* ------------------------------------------------------------ probe, report */

static const struct field probe_fields[] = {
	DUR("blocking_threshold", struct tg_spec, probe.blocking_threshold_ns, 1),
	U32("sample_rate", struct tg_spec, probe.sample_rate, 0, 100000),
	U32("stack_depth", struct tg_spec, probe.stack_depth, 1, 127),
	{ "ring_buffer", h_ring_buffer, offsetof(struct tg_spec, probe.ring_buffer_bytes), 4096, 1u << 30,
	  NULL },
	FIELD("unwind", h_unwind),
	{ "stack_copy", h_size32, offsetof(struct tg_spec, probe.stack_copy_bytes), 4096,
	  TG_SPEC_STACK_COPY_MAX, NULL },
};
static const struct table probe_table = TABLE(probe_fields, NULL);

static const struct field report_fields[] = {
	STR("dir", struct tg_spec, report.dir),
	STR("junit", struct tg_spec, report.junit),
	STR("trace", struct tg_spec, report.trace),
	STR("results", struct tg_spec, report.results),
	DUR("trace_min_poll", struct tg_spec, report.trace_min_poll_ns, 0),
	U32("trace_max_polls", struct tg_spec, report.trace_max_polls, 1024, 1u << 24),
};
static const struct table report_table = TABLE(report_fields, NULL);

/* ----------------------------------------------------------- http, tcp steps */

static int h_method(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		    void *obj)
{
	struct tg_http_req *r = obj;
	char q[QUOTE_LEN];
	const char *m;
	int rc = scalar(c, v, path, "an HTTP method like GET", &m);
	if (rc)
		return rc;
	bool ok = *m && strlen(m) <= 32;
	for (const char *p = m; ok && *p; p++)
		ok = (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_';
	if (!ok)
		return fail(c, v, path, "expected an HTTP method in upper case like GET or POST, got %s",
			    describe(v, q, sizeof q));
	free(r->method);
	if (!(r->method = strdup(m)))
		return oom(c);
	return 0;
}

static int h_headers(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		     void *obj)
{
	return parse_kv(c, v, path, &((struct tg_http_req *)obj)->headers, true);
}

static int h_body(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_http_req *r = obj;
	const char *b;
	int rc = scalar(c, v, path, "a string (the request body)", &b);
	if (rc)
		return rc;
	free(r->body);
	if (!(r->body = strdup(b)))
		return oom(c);
	r->body_len = strlen(b);
	return 0;
}

/* Only checked here; read by read_body_file once http_check saw no body. */
static int h_body_file(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		       void *obj)
{
	const char *name;
	int rc = scalar(c, v, path, "a file name", &name);
	if (rc)
		return rc;
	if (!*name)
		return fail(c, v, path, "must not be empty");
	return 0;
}

/* Reads body_file V (relative to the spec's folder) into R->body, regular files only. */
static int read_body_file(struct ctx *c, yaml_node_t *v, const char *path, struct tg_http_req *r)
{
	char q[QUOTE_LEN];
	const char *name = (const char *)v->data.scalar.value;
	int rc = 0;
	char *full = abs_join(c->dir, name);
	if (!full)
		return oom(c);
	quote(q, sizeof q, full, strlen(full));
	/* O_NONBLOCK: a FIFO must not hang the parser; only regular files are read */
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	int e = 0;
	char *buf = NULL;
	if (fd < 0) {
		e = errno;
		rc = fail(c, v, path, "cannot open %s: %s", q, strerror(e));
		goto out;
	}
	if (fstat(fd, &st)) {
		e = errno;
		rc = fail(c, v, path, "cannot read %s: %s", q, strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(c, v, path, "cannot read %s: %s", q,
			  S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > MAX_BODY_BYTES) {
		rc = fail(c, v, path, "%s is too large for a request body (more than %u MiB)", q,
			  MAX_BODY_BYTES >> 20);
		goto out;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	if (!(buf = malloc(cap))) {
		rc = oom(c);
		goto out;
	}
	for (;;) {
		if (n == cap - 1) {
			if (cap > MAX_BODY_BYTES) {
				rc = fail(c, v, path, "%s is too large for a request body (more than %u MiB)", q,
					  MAX_BODY_BYTES >> 20);
				goto out;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = oom(c);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			rc = fail(c, v, path, "cannot read %s: %s", q, strerror(e));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	free(r->body);
	r->body = buf;
	r->body_len = n;
	buf = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(full);
	return rc;
}

static int h_status(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		    void *obj)
{
	uint64_t x;
	int rc = parse_uint(c, v, path, 100, 599, &x);
	if (!rc)
		((struct tg_http_req *)obj)->expect_status = (int)x;
	return rc;
}

static int h_http_url(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	return parse_url(c, v, path, &((struct tg_http_req *)obj)->url);
}

static const struct field http_req_fields[] = {
	FIELD("url", h_http_url),
	FIELD("method", h_method),
	FIELD("headers", h_headers),
	FIELD("body", h_body),
	FIELD("body_file", h_body_file),
	FIELD("expect_status", h_status),
	DUR("timeout", struct tg_http_req, timeout_ns, 1),
};

static int http_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen);
static const struct table http_table = TABLE(http_req_fields, http_check);

static int http_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen)
{
	yaml_node_t *b = seen[field_index(&http_table, "body")];
	yaml_node_t *bf = seen[field_index(&http_table, "body_file")];
	char sub[PATH_LEN];
	if (b && bf) {
		yaml_node_t *later = b->start_mark.index > bf->start_mark.index ? b : bf;
		join_key(sub, path, later == b ? "body" : "body_file");
		return fail(c, later, sub, "only one of body, body_file can be given (\"%s\" is on line %zu)",
			    later == b ? "body_file" : "body",
			    (later == b ? bf : b)->start_mark.line + 1);
	}
	int rc = require(c, n, path, &http_table, seen, "url");
	if (rc || !bf)
		return rc;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
		if (node(c, p->key) == bf) {
			join_key(sub, path, "body_file");
			return read_body_file(c, node(c, p->value), sub, obj);
		}
	return 0;
}

static int h_tcp_addr(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_tcp_req *r = obj;
	return parse_addr(c, v, path, &r->host, &r->port);
}

static int h_tcp_send(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_tcp_req *r = obj;
	char q[QUOTE_LEN];
	/* bytes: "\0" is fine here */
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(c, v, path, "expected a string (the bytes to send), got %s",
			    describe(v, q, sizeof q));
	size_t n = v->data.scalar.length;
	char *b = malloc(n + 1);
	if (!b)
		return oom(c);
	memcpy(b, v->data.scalar.value, n);
	b[n] = '\0';
	free(r->send);
	r->send = b;
	r->send_len = n;
	return 0;
}

static int h_tcp_expect(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			void *obj)
{
	struct tg_tcp_req *r = obj;
	const char *e;
	int rc = scalar(c, v, path, "a string (a part of the reply)", &e);
	if (rc)
		return rc;
	if (!*e)
		return fail(c, v, path, "must not be empty (leave expect out to accept any reply)");
	free(r->expect);
	if (!(r->expect = strdup(e)))
		return oom(c);
	return 0;
}

static const struct field tcp_req_fields[] = {
	FIELD("addr", h_tcp_addr),
	FIELD("send", h_tcp_send),
	FIELD("expect", h_tcp_expect),
	DUR("timeout", struct tg_tcp_req, timeout_ns, 1),
};

static int tcp_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		     yaml_node_t *const *seen);
static const struct table tcp_table = TABLE(tcp_req_fields, tcp_check);

static int tcp_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		     yaml_node_t *const *seen)
{
	int rc = require(c, n, path, &tcp_table, seen, "addr");
	return rc ? rc : require(c, n, path, &tcp_table, seen, "send");
}

/* -------------------------------------------------------------------- load */

static const char *const step_kinds[] = { "exec", "sleep", "http", "tcp", "parallel", NULL };

const char *tg_step_kind_name(enum tg_step_kind kind)
{
	switch (kind) {
	case TG_STEP_EXEC: return "exec";
	case TG_STEP_SLEEP: return "sleep";
	case TG_STEP_HTTP: return "http";
	case TG_STEP_TCP: return "tcp";
	case TG_STEP_PARALLEL: return "parallel";
	}
	return "step";
}

static int h_exec(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_step *st = obj;
	int rc = parse_argv(c, v, path, &st->argv);
	if (!rc)
		st->kind = TG_STEP_EXEC;
	return rc;
}

static int h_sleep(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	int rc = h_dur(c, f, v, path, obj);
	if (!rc)
		((struct tg_step *)obj)->kind = TG_STEP_SLEEP;
	return rc;
}

static int h_http(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_step *st = obj;
	st->http.timeout_ns = 10 * NS_PER_S;
	int rc = h_section(c, f, v, path, obj);
	if (rc)
		return rc;
	if (!st->http.method && !(st->http.method = strdup("GET")))
		return oom(c);
	if (!st->http.headers && !(st->http.headers = calloc(1, sizeof(char *))))
		return oom(c);
	st->kind = TG_STEP_HTTP;
	return 0;
}

static int h_tcp(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_step *st = obj;
	st->tcp.timeout_ns = 10 * NS_PER_S;
	int rc = h_section(c, f, v, path, obj);
	if (!rc)
		st->kind = TG_STEP_TCP;
	return rc;
}

static int h_rate(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	char why[2 * QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "a rate like 100/s", &s);
	if (rc)
		return rc;
	if (tg_parse_rate(s, &((struct tg_step *)obj)->traffic.rate_per_s, why, sizeof why))
		return fail(c, v, path, "%s", why);
	return 0;
}

static int h_requests(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	return parse_uint(c, v, path, 1, 1000000000000ull, &((struct tg_step *)obj)->traffic.requests);
}

static int parse_steps(struct ctx *c, yaml_node_t *v, const char *path, struct tg_step **out,
		       size_t *nout);

static int h_parallel(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_step *st = obj;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of steps to run at the same time");
	if (v->data.sequence.items.top == v->data.sequence.items.start)
		return fail(c, v, path, "expected at least one step to run");
	if (c->depth >= MAX_PARALLEL_DEPTH)
		return fail(c, v, path, "parallel steps nested more than %d deep", MAX_PARALLEL_DEPTH);
	st->kind = TG_STEP_PARALLEL;
	c->depth++;
	int rc = parse_steps(c, v, path, &st->children, &st->nchildren);
	c->depth--;
	return rc;
}

static const struct field step_fields[] = {
	STR("name", struct tg_step, name),
	FIELD("exec", h_exec),
	{ "sleep", h_sleep, offsetof(struct tg_step, sleep_ns), 0, UINT64_MAX, NULL },
	SECTION_AT("http", h_http, struct tg_step, http, http_table),
	SECTION_AT("tcp", h_tcp, struct tg_step, tcp, tcp_table),
	FIELD("parallel", h_parallel),
	DUR("timeout", struct tg_step, timeout_ns, 1),
	{ "env", h_env, offsetof(struct tg_step, env), 0, 0, NULL },
	{ "cwd", h_cwd, offsetof(struct tg_step, cwd), 0, 0, NULL },
	FIELD("rate", h_rate),
	U32("concurrency", struct tg_step, traffic.concurrency, 1, 10000),
	DUR("duration", struct tg_step, traffic.duration_ns, 1),
	FIELD("requests", h_requests),
};

static int step_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen);
static const struct table step_table = TABLE(step_fields, step_check);

static int step_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen)
{
	static const char *const exec_only[] = { "timeout", "env", "cwd", NULL };
	static const char *const traffic_keys[] = { "rate", "concurrency", "duration", "requests", NULL };
	static const char *const amount[] = { "duration", "requests", NULL };
	struct tg_step *st = obj;
	char sub[PATH_LEN];
	int rc = exactly_one(c, n, path, &step_table, seen, step_kinds);
	if (rc)
		return rc;
	/* the first misplaced key in the document */
	yaml_node_t *bad = NULL;
	const char *bad_key = NULL, *why = NULL;
	for (const char *const *k = exec_only; *k; k++) {
		yaml_node_t *t = seen[field_index(&step_table, *k)];
		if (t && st->kind != TG_STEP_EXEC && (!bad || t->start_mark.index < bad->start_mark.index)) {
			bad = t;
			bad_key = *k;
			why = "only exec steps take";
		}
	}
	for (const char *const *k = traffic_keys; *k; k++) {
		yaml_node_t *t = seen[field_index(&step_table, *k)];
		if (t && st->kind != TG_STEP_HTTP && st->kind != TG_STEP_TCP &&
		    (!bad || t->start_mark.index < bad->start_mark.index)) {
			bad = t;
			bad_key = *k;
			why = "only http and tcp steps take";
		}
	}
	if (bad) {
		join_key(sub, path, bad_key);
		return fail(c, bad, sub, "%s %s %s", why,
			    !strcmp(bad_key, "env") ? "an" : !strcmp(bad_key, "requests") ? "a count of" : "a",
			    bad_key);
	}
	if (st->kind == TG_STEP_HTTP || st->kind == TG_STEP_TCP)
		return exactly_one(c, n, path, &step_table, seen, amount);
	return 0;
}

static int add_ref(struct ctx *c, const char *name, const char *path, yaml_node_t *where, int line,
		   size_t order)
{
	if (c->nrefs == c->caprefs) {
		size_t cap = c->caprefs ? c->caprefs * 2 : 16;
		struct step_ref *r = realloc(c->refs, cap * sizeof *r);
		if (!r)
			return oom(c);
		c->refs = r;
		c->caprefs = cap;
	}
	char *p = strdup(path);
	if (!p)
		return oom(c);
	c->refs[c->nrefs] = (struct step_ref){ name, p, where, line, order };
	c->nrefs++;
	return 0;
}

static void drop_refs(struct ctx *c)
{
	for (size_t i = 0; i < c->nrefs; i++)
		free(c->refs[i].path);
	free(c->refs);
	c->refs = NULL;
	c->nrefs = c->caprefs = 0;
}

/* One step at PATH: a mapping with exactly one kind. */
static int parse_step(struct ctx *c, yaml_node_t *item, const char *path, struct tg_step *st)
{
	yaml_node_t *seen[MAX_FIELDS];
	int rc;
	size_t nth = ++c->nsteps;

	st->line = (int)item->start_mark.line + 1;
	st->column = (int)item->start_mark.column + 1;
	st->timeout_ns = 5 * NS_PER_M;
	if (item->type != YAML_MAPPING_NODE)
		return fail_type(c, item, path, "a step (a mapping like {sleep: 2s})");
	if ((rc = walk_map(c, item, path, &step_table, st, seen)) ||
	    (rc = step_check(c, item, path, st, seen)))
		return rc;
	if (!st->env && !(st->env = calloc(1, sizeof(char *))))
		return oom(c);
	if (st->kind == TG_STEP_EXEC && !st->cwd && !(st->cwd = strdup(c->dir)))
		return oom(c);
	if (!st->name) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s #%zu", tg_step_kind_name(st->kind), nth);
		if (!(st->name = strdup(buf)))
			return oom(c);
	}
	yaml_node_t *where = item, *name = seen[field_index(&step_table, "name")];
	if (name) {
		/* point at the name's value */
		for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
		     p++)
			if (node(c, p->key) == name)
				where = node(c, p->value);
	}
	/* ordered by where the step starts: a parallel step before its children */
	return add_ref(c, st->name, path, where, st->line, nth);
}

static int parse_steps(struct ctx *c, yaml_node_t *v, const char *path, struct tg_step **out,
		       size_t *nout)
{
	char sub[PATH_LEN];
	int bad = 0;
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return 0;
	if (!(*out = calloc(n, sizeof **out)))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node(c, v->data.sequence.items.start[i]);
		*nout = i + 1;
		join_index(sub, path, i);
		if (!item)
			return fail(c, v, sub, "malformed YAML list");
		int rc = budget(c, item, sub);
		if (!rc)
			rc = parse_step(c, item, sub, &(*out)[i]);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct step_ref *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	return r ? r : (x->order > y->order) - (x->order < y->order);
}

static int h_load(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_spec *s = obj;
	int rc;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of steps");
	if ((rc = parse_steps(c, v, path, &s->steps, &s->nsteps)))
		return rc;
	/* assertions select steps by name: names must be unique, children included; the
	 * error is at the later of the first clashing pair */
	if (c->nrefs < 2)
		return 0;
	qsort(c->refs, c->nrefs, sizeof *c->refs, ref_cmp);
	struct step_ref *first = NULL, *later = NULL;
	for (size_t i = 1; i < c->nrefs; i++) {
		if (strcmp(c->refs[i].name, c->refs[i - 1].name))
			continue;
		/* the earliest second occurrence in the document */
		if (!later || c->refs[i].order < later->order) {
			later = &c->refs[i];
			first = &c->refs[i - 1];
			while (first > c->refs && !strcmp((first - 1)->name, first->name))
				first--;
		}
	}
	if (!later)
		return 0;
	char q[QUOTE_LEN];
	quote(q, sizeof q, later->name, strlen(later->name));
	return fail(c, later->where, later->path, "duplicate step name %s (also the name of %s on line %d)",
		    q, first->path, first->line);
}

/* ------------------------------------------------------------------- allow */

static int h_reason(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_allow *al = obj;
	const char *s;
	int rc = scalar(c, v, path, "a string saying why this blocking is acceptable", &s);
	if (rc)
		return rc;
	if (!*s)
		return fail(c, v, path, "must not be empty: say why this blocking is acceptable (it is "
					"carried into every report)");
	free(al->reason);
	if (!(al->reason = strdup(s)))
		return oom(c);
	return 0;
}

static const struct field allow_fields[] = {
	STR("function", struct tg_allow, function),
	FIELD("reason", h_reason),
};

static int allow_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen);
static const struct table allow_table = TABLE(allow_fields, allow_check);

static int allow_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		       yaml_node_t *const *seen)
{
	char sub[PATH_LEN];
	if (!seen[field_index(&allow_table, "function")]) {
		join_key(sub, path, "function");
		return fail(c, n, sub, "required field is missing (a glob on function names like "
				       "\"ring::pbkdf2::*\")");
	}
	if (!seen[field_index(&allow_table, "reason")]) {
		join_key(sub, path, "reason");
		return fail(c, n, sub, "required field is missing: say why this blocking is acceptable "
				       "(it is carried into every report)");
	}
	return 0;
}

static int parse_allow(struct ctx *c, yaml_node_t *item, const char *path, struct tg_allow *al)
{
	yaml_node_t *seen[MAX_FIELDS];
	al->line = (int)item->start_mark.line + 1;
	al->column = (int)item->start_mark.column + 1;
	if (item->type != YAML_MAPPING_NODE)
		return fail_type(c, item, path,
				 "an allowed function (a mapping like {function: \"ring::*\", reason: \"...\"})");
	int rc = walk_map(c, item, path, &allow_table, al, seen);
	return rc ? rc : allow_check(c, item, path, al, seen);
}

static int h_allow(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_spec *s = obj;
	char sub[PATH_LEN];
	int bad = 0;
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of allowed functions");
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return 0;
	if (!(s->allow = calloc(n, sizeof *s->allow)))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node(c, v->data.sequence.items.start[i]);
		s->nallow = i + 1;
		join_index(sub, path, i);
		if (!item)
			return fail(c, v, sub, "malformed YAML list");
		int rc = budget(c, item, sub);
		if (!rc)
			rc = parse_allow(c, item, sub, &s->allow[i]);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

/* -------------------------------------------------------------- assertions */

/* Every limit: kind, key, how its value is written, whether it belongs to load
 * selectors. One list feeds both the key table and tg_limit_name/unit/is_load. */
#define LIMITS(X)                                                                            \
	X(TG_LIM_MAX_POLL, "max_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P50_POLL, "p50_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P90_POLL, "p90_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P99_POLL, "p99_poll", TG_UNIT_DURATION, false)                              \
	X(TG_LIM_P999_POLL, "p999_poll", TG_UNIT_DURATION, false)                            \
	X(TG_LIM_MAX_BLOCKING_SPANS, "max_blocking_spans", TG_UNIT_COUNT, false)             \
	X(TG_LIM_MAX_BLOCKING_TIME, "max_blocking_time", TG_UNIT_DURATION, false)            \
	X(TG_LIM_MIN_POLLS, "min_polls", TG_UNIT_COUNT, false)                               \
	X(TG_LIM_MAX_POLL_REGRESSION, "max_poll_regression", TG_UNIT_PERCENT, false)         \
	X(TG_LIM_MAX_SCHEDULING_DELAY, "max_scheduling_delay", TG_UNIT_DURATION, false)      \
	X(TG_LIM_P99_SCHEDULING_DELAY, "p99_scheduling_delay", TG_UNIT_DURATION, false)      \
	X(TG_LIM_MAX_ERRORS, "max_errors", TG_UNIT_COUNT, true)                              \
	X(TG_LIM_MAX_ERROR_RATE, "max_error_rate", TG_UNIT_PERCENT, true)                    \
	X(TG_LIM_P50_LATENCY, "p50_latency", TG_UNIT_DURATION, true)                         \
	X(TG_LIM_P99_LATENCY, "p99_latency", TG_UNIT_DURATION, true)                         \
	X(TG_LIM_MAX_LATENCY, "max_latency", TG_UNIT_DURATION, true)                         \
	X(TG_LIM_MIN_THROUGHPUT, "min_throughput", TG_UNIT_RATE, true)

static const struct {
	const char *name;
	enum tg_limit_unit unit;
	bool load;
} limit_info[TG_LIM__COUNT] = {
#define X(kind, key, unit, load) [kind] = { key, unit, load },
	LIMITS(X)
#undef X
};

static bool limit_known(enum tg_limit_kind kind)
{
	return kind > 0 && kind < TG_LIM__COUNT && limit_info[kind].name;
}

const char *tg_limit_name(enum tg_limit_kind kind)
{
	return limit_known(kind) ? limit_info[kind].name : "unknown";
}

enum tg_limit_unit tg_limit_unit(enum tg_limit_kind kind)
{
	return limit_known(kind) ? limit_info[kind].unit : TG_UNIT_COUNT;
}

bool tg_limit_is_min(enum tg_limit_kind kind)
{
	return kind == TG_LIM_MIN_POLLS || kind == TG_LIM_MIN_THROUGHPUT;
}

bool tg_limit_is_load(enum tg_limit_kind kind)
{
	return limit_known(kind) && limit_info[kind].load;
}

/* Why KIND cannot be a limit of an entry selecting with SEL, or NULL when it can. */
static const char *misplaced_limit(enum tg_selector sel, enum tg_limit_kind kind)
{
	if (tg_limit_is_load(kind) && sel != TG_SEL_LOAD)
		return "measures a load step: put it in an entry that selects one with load: NAME";
	if (!tg_limit_is_load(kind) && sel == TG_SEL_LOAD)
		return "measures task polls, not a load step: put it in an entry with task: or "
		       "no selector";
	if (sel != TG_SEL_FUNCTION)
		return NULL;
	if (kind == TG_LIM_MAX_POLL_REGRESSION)
		return "compares tasks with the baseline, not functions: put it in an entry with "
		       "task: or no selector";
	if (kind == TG_LIM_MAX_SCHEDULING_DELAY || kind == TG_LIM_P99_SCHEDULING_DELAY)
		return "is a task's time from wake to poll, not a function's: put it in an entry "
		       "with task: or no selector";
	return NULL;
}

/* A count: a plain non-negative integer, nothing else. */
static int parse_count(struct ctx *c, yaml_node_t *v, const char *path, const char *s,
		       uint64_t *out)
{
	char q[QUOTE_LEN];
	uint64_t x = 0;
	size_t n = 0;
	bool big = false;
	quote(q, sizeof q, s, strlen(s));
	if (*s == '-' && is_digit(s[1]))
		return fail(c, v, path, "a count cannot be negative, got %s", q);
	for (; is_digit(s[n]); n++) {
		if (x > (UINT64_MAX - 9) / 10)
			big = true;
		else
			x = x * 10 + (uint64_t)(s[n] - '0');
	}
	if (!n)
		return fail(c, v, path, "expected a count like 0 or 10, got %s", q);
	if (s[n] == '.')
		return fail(c, v, path, "a count is a whole number like 0 or 10, got %s", q);
	if (s[n])
		return fail(c, v, path, "a count is a plain whole number like 0 or 10 (no unit), got %s", q);
	if (big)
		return fail(c, v, path, "count %s is too large", q);
	*out = x;
	return 0;
}

static int parse_limit_value(struct ctx *c, yaml_node_t *v, const char *path, const char *s,
			     struct tg_limit *lim)
{
	char why[2 * QUOTE_LEN], q[QUOTE_LEN];
	int rc = 0;
	switch (tg_limit_unit(lim->kind)) {
	case TG_UNIT_DURATION:
		rc = tg_parse_duration_msg(s, &lim->ns, why, sizeof why);
		break;
	case TG_UNIT_COUNT:
		return parse_count(c, v, path, s, &lim->count);
	case TG_UNIT_PERCENT:
		rc = tg_parse_percent(s, &lim->value, why, sizeof why);
		if (!rc && lim->kind == TG_LIM_MAX_ERROR_RATE && lim->value > 100) {
			quote(q, sizeof q, s, strlen(s));
			return fail(c, v, path, "an error rate cannot be more than 100%%, got %s", q);
		}
		break;
	case TG_UNIT_RATE:
		rc = tg_parse_rate(s, &lim->value, why, sizeof why);
		break;
	}
	return rc ? fail(c, v, path, "%s", why) : 0;
}

static const char *limit_example(enum tg_limit_kind kind)
{
	switch (tg_limit_unit(kind)) {
	case TG_UNIT_DURATION: return "a duration like 5ms";
	case TG_UNIT_COUNT: return "a count like 0 or 10";
	case TG_UNIT_PERCENT: return "a percentage like 5%";
	case TG_UNIT_RATE: return "a rate like 100/s";
	}
	return "a value";
}

/* One limit, appended in document order; F->min holds its kind. Its key's position is
 * set by assertion_check, which sees the key nodes. */
static int h_limit(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_assertion *a = obj;
	struct tg_limit lim = { .kind = (enum tg_limit_kind)f->min };
	const char *s;
	int rc = scalar(c, v, path, limit_example(lim.kind), &s);
	if (rc || (rc = parse_limit_value(c, v, path, s, &lim)))
		return rc;
	if (a->nlimits >= c->limit_cap) /* cannot happen: keys are unique, the array fits them all */
		return fail(c, v, path, "too many limits in one assertion");
	if (!(lim.text = strdup(s)))
		return oom(c);
	a->limits[a->nlimits++] = lim;
	return 0;
}

static int h_selector(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
		      void *obj)
{
	struct tg_assertion *a = obj;
	enum tg_selector sel = TG_SEL_LOAD;
	const char *what = "a load step name like \"warmup\"";
	if (!strcmp(f->key, "task")) {
		sel = TG_SEL_TASK;
		what = "a task name or glob like \"demo_server::*\"";
	} else if (!strcmp(f->key, "function")) {
		sel = TG_SEL_FUNCTION;
		what = "a function name or glob like \"demo_server::compute_hash\"";
	}
	const char *s;
	int rc = scalar(c, v, path, what, &s);
	if (rc)
		return rc;
	if (!*s)
		return fail(c, v, path, "must not be empty");
	free(a->pattern);
	if (!(a->pattern = strdup(s)))
		return oom(c);
	a->sel = sel;
	return 0;
}

static int h_allow_missing(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			   void *obj)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	struct tg_assertion *a = obj;
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "true or false", &s);
	if (rc)
		return rc;
	for (size_t i = 0; i < N(yes); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			a->allow_missing = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return fail(c, v, path, "expected true or false, got %s", describe(v, q, sizeof q));
}

static int h_mode(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path, void *obj)
{
	struct tg_assertion *a = obj;
	char q[QUOTE_LEN];
	const char *s;
	int rc = scalar(c, v, path, "warn or fail", &s);
	if (rc)
		return rc;
	if (strcmp(s, "warn") && strcmp(s, "fail"))
		return fail(c, v, path, "expected warn (report failures without failing the run) or "
					"fail, got %s", describe(v, q, sizeof q));
	a->warn = !strcmp(s, "warn");
	return 0;
}

static const char *const selectors[] = { "task", "function", "load", NULL };

static const struct field assertion_fields[] = {
	FIELD("task", h_selector),
	FIELD("function", h_selector),
	FIELD("load", h_selector),
	FIELD("allow_missing", h_allow_missing),
	FIELD("mode", h_mode),
#define X(kind, key, unit, load) { key, h_limit, 0, kind, 0, NULL },
	LIMITS(X)
#undef X
};

static int assertion_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			   yaml_node_t *const *seen);
static const struct table assertion_table = TABLE(assertion_fields, assertion_check);

/* At most one selector; the error is at the later of the first two. */
static int one_selector(struct ctx *c, const char *path, yaml_node_t *const *seen)
{
	yaml_node_t *first = NULL, *second = NULL;
	const char *first_key = NULL, *second_key = NULL;
	char sub[PATH_LEN];
	for (const char *const *k = selectors; *k; k++) {
		yaml_node_t *key = seen[field_index(&assertion_table, *k)];
		if (!key)
			continue;
		if (!first || key->start_mark.index < first->start_mark.index) {
			second = first, second_key = first_key;
			first = key, first_key = *k;
		} else if (!second || key->start_mark.index < second->start_mark.index) {
			second = key, second_key = *k;
		}
	}
	if (!second)
		return 0;
	join_key(sub, path, second_key);
	return fail(c, second, sub,
		    "an entry has at most one selector, but this one has both %s (line %zu) and %s "
		    "(split it into two entries)",
		    first_key, first->start_mark.line + 1, second_key);
}

/* "max_poll, p50_poll, ...": the limits an entry selecting with SEL can take. */
static void limits_for(enum tg_selector sel, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int k = 1; k < TG_LIM__COUNT; k++) {
		if (misplaced_limit(sel, (enum tg_limit_kind)k))
			continue;
		int w = snprintf(out + o, len - o, "%s%s", o ? ", " : "", tg_limit_name(k));
		if (w < 0 || (size_t)w >= len - o)
			break;
		o += (size_t)w;
	}
}

static int assertion_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
			   yaml_node_t *const *seen)
{
	struct tg_assertion *a = obj;
	char sub[PATH_LEN], list[512];
	int rc = one_selector(c, path, seen);
	if (rc)
		return rc;
	if (!a->nlimits) {
		limits_for(a->sel, list, sizeof list);
		return fail(c, n, path, "an assertion needs at least one limit: %s", list);
	}
	for (size_t i = 0; i < a->nlimits; i++) {
		struct tg_limit *l = &a->limits[i];
		yaml_node_t *key = seen[field_index(&assertion_table, tg_limit_name(l->kind))];
		l->line = (int)key->start_mark.line + 1;
		l->column = (int)key->start_mark.column + 1;
	}
	/* limits are in document order: the first misplaced one is the first in the file */
	for (size_t i = 0; i < a->nlimits; i++) {
		const char *why = misplaced_limit(a->sel, a->limits[i].kind);
		if (!why)
			continue;
		join_key(sub, path, tg_limit_name(a->limits[i].kind));
		return fail_at(c, (size_t)a->limits[i].line - 1, (size_t)a->limits[i].column - 1, sub,
			       "%s %s", tg_limit_name(a->limits[i].kind), why);
	}
	return 0;
}

static int parse_assertion(struct ctx *c, yaml_node_t *item, const char *path,
			   struct tg_assertion *a)
{
	yaml_node_t *seen[MAX_FIELDS];
	a->line = (int)item->start_mark.line + 1;
	a->column = (int)item->start_mark.column + 1;
	if (item->type != YAML_MAPPING_NODE)
		return fail_type(c, item, path, "an assertion (a mapping like {max_poll: 50ms})");
	size_t n = (size_t)(item->data.mapping.pairs.top - item->data.mapping.pairs.start);
	if (!(a->limits = calloc(n ? n : 1, sizeof *a->limits)))
		return oom(c);
	c->limit_cap = n;
	int rc = walk_map(c, item, path, &assertion_table, a, seen);
	return rc ? rc : assertion_check(c, item, path, a, seen);
}

static int h_assertions(struct ctx *c, const struct field *f, yaml_node_t *v, const char *path,
			void *obj)
{
	struct tg_spec *s = obj;
	char sub[PATH_LEN];
	int bad = 0;
	s->has_assertions = true; /* "assertions: []" turns the default check off */
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail_type(c, v, path, "a list of assertions");
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return 0;
	if (!(s->assertions = calloc(n, sizeof *s->assertions)))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node(c, v->data.sequence.items.start[i]);
		s->nassertions = i + 1;
		join_index(sub, path, i);
		if (!item)
			return fail(c, v, sub, "malformed YAML list");
		int rc = budget(c, item, sub);
		if (!rc)
			rc = parse_assertion(c, item, sub, &s->assertions[i]);
		if (rc && !go_on(c, rc))
			return rc;
		if (rc)
			bad = rc;
	}
	return bad;
}

/* -------------------------------------------------- load selectors vs steps */

static bool step_matches(const struct tg_step *st, size_t n, const char *pattern)
{
	for (size_t i = 0; i < n; i++) {
		if (tg_is_glob(pattern) ? tg_glob_match(pattern, st[i].name) : !strcmp(pattern, st[i].name))
			return true;
		if (step_matches(st[i].children, st[i].nchildren, pattern))
			return true;
	}
	return false;
}

#define STEP_LIST_LEN 160 /* step names shown in an error before "and N more" */

/* Appends the quoted names of STEPS (a parallel step before its children) to OUT at *O,
 * counting in *MORE those that do not fit in STEP_LIST_LEN bytes. */
static void list_steps(const struct tg_step *st, size_t n, char *out, size_t *o, size_t *more)
{
	char q[QUOTE_LEN];
	for (size_t i = 0; i < n; i++) {
		quote(q, sizeof q, st[i].name, strlen(st[i].name));
		if (!*more && *o + strlen(q) + 2 < STEP_LIST_LEN)
			*o += (size_t)snprintf(out + *o, STEP_LIST_LEN - *o, "%s%s", *o ? ", " : "", q);
		else
			++*more;
		list_steps(st[i].children, st[i].nchildren, out, o, more);
	}
}

static int unknown_step(struct ctx *c, const struct tg_spec *s, yaml_node_t *v, const char *path,
			const char *pattern)
{
	char q[QUOTE_LEN], names[STEP_LIST_LEN], tail[48] = "";
	size_t o = 0, more = 0;
	const char *what = tg_is_glob(pattern) ? "no load step name matches" : "no load step is named";
	quote(q, sizeof q, pattern, strlen(pattern));
	if (!s->nsteps)
		return fail(c, v, path, "%s %s (the spec has no load steps)", what, q);
	names[0] = '\0';
	list_steps(s->steps, s->nsteps, names, &o, &more);
	if (more)
		snprintf(tail, sizeof tail, " and %zu more", more);
	return fail(c, v, path, "%s %s (the steps are %s%s)", what, q, names, tail);
}

/* The value of the first key named KEY in mapping N, or NULL. */
static yaml_node_t *value_of(struct ctx *c, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
			return node(c, p->value);
	}
	return NULL;
}

/* Every load: selector names a step: run after the whole spec was read, since
 * assertions may come before load in the file. */
static int check_load_selectors(struct ctx *c, const struct tg_spec *s, yaml_node_t *root)
{
	char sub[PATH_LEN];
	int bad = 0;
	yaml_node_t *list = value_of(c, root, "assertions");
	if (!list || list->type != YAML_SEQUENCE_NODE)
		return 0;
	for (size_t i = 0; i < s->nassertions; i++) {
		const struct tg_assertion *a = &s->assertions[i];
		if (a->sel != TG_SEL_LOAD || step_matches(s->steps, s->nsteps, a->pattern))
			continue;
		yaml_node_t *item = node(c, list->data.sequence.items.start[i]);
		yaml_node_t *v = item ? value_of(c, item, "load") : NULL;
		snprintf(sub, sizeof sub, "assertions[%zu].load", i);
		bad = unknown_step(c, s, v ? v : list, sub, a->pattern);
		if (!go_on(c, bad))
			return bad;
	}
	return bad;
}

/* -------------------------------------------------------------------- root */

static const struct field root_fields[] = {
	FIELD("version", h_version),
	STR("name", struct tg_spec, name),
	SECTION("target", target_table),
	SECTION("probe", probe_table),
	FIELD("load", h_load),
	FIELD("allow", h_allow),
	FIELD("assertions", h_assertions),
	SECTION("report", report_table),
};

static int root_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen);
static const struct table root_table = TABLE(root_fields, root_check);

static int root_check(struct ctx *c, yaml_node_t *n, const char *path, void *obj,
		      yaml_node_t *const *seen)
{
	int rc = require(c, n, path, &root_table, seen, "target");
	if (rc || c->nerrors) /* step names may be missing after an error */
		return rc ? rc : -EINVAL;
	return check_load_selectors(c, obj, n);
}

_Static_assert(N(root_fields) <= MAX_FIELDS && N(target_fields) <= MAX_FIELDS &&
		       N(ready_fields) <= MAX_FIELDS && N(stop_fields) <= MAX_FIELDS &&
		       N(probe_fields) <= MAX_FIELDS && N(report_fields) <= MAX_FIELDS &&
		       N(step_fields) <= MAX_FIELDS && N(http_req_fields) <= MAX_FIELDS &&
		       N(tcp_req_fields) <= MAX_FIELDS && N(allow_fields) <= MAX_FIELDS &&
		       N(assertion_fields) <= MAX_FIELDS,
	       "raise MAX_FIELDS");

static int set_default(struct ctx *c, char **dst, const char *value)
{
	if (*dst)
		return 0;
	return (*dst = strdup(value)) ? 0 : oom(c);
}

static int build(struct ctx *c, struct tg_spec *s)
{
	s->version = 1;
	s->target.ready.kind = TG_READY_NONE;
	s->target.ready.timeout_ns = 30 * NS_PER_S;
	s->target.stop.signal = SIGTERM;
	s->target.stop.grace_ns = 5 * NS_PER_S;
	s->probe.blocking_threshold_ns = 10 * NS_PER_MS;
	s->probe.sample_rate = 999;
	s->probe.stack_depth = 64;
	s->report.trace_max_polls = 128u << 10; /* record/caps.h's TG_KEEP_SLICES */
	s->probe.ring_buffer_bytes = 16u << 20;
	s->probe.stack_copy_bytes = 16u << 10;
	s->report.trace_min_poll_ns = 100 * NS_PER_US;
	if (!(s->path = strdup(c->file)) || !(s->dir = spec_folder(c->file)))
		return oom(c);
	c->dir = s->dir;

	yaml_node_t *root = yaml_document_get_root_node(c->doc), *seen[MAX_FIELDS];
	if (!root || is_null(root))
		return fail_at(c, root ? root->start_mark.line : 0, root ? root->start_mark.column : 0,
			       "", "the spec is empty (it needs at least a target with a command)");
	int rc = walk_map(c, root, "", &root_table, s, seen);
	if ((!rc || go_on(c, rc)) && root->type == YAML_MAPPING_NODE) {
		int rc2 = root_check(c, root, "", s, seen);
		rc = rc ? rc : rc2;
	}
	if (rc)
		return rc;

	char *name = default_name(c->file);
	if (!name)
		return oom(c);
	if (!s->name)
		s->name = name;
	else
		free(name);
	if (!s->target.cwd && !(s->target.cwd = strdup(s->dir)))
		return oom(c);
	if (!s->target.env && !(s->target.env = calloc(1, sizeof(char *))))
		return oom(c);
	if ((rc = set_default(c, &s->report.dir, "tokio-guard-out")) ||
	    (rc = set_default(c, &s->report.junit, "junit.xml")) ||
	    (rc = set_default(c, &s->report.trace, "trace.json")) ||
	    (rc = set_default(c, &s->report.results, "results.json")))
		return rc;
	return 0;
}

/* ---------------------------------------------------------------- loading */

static int read_all(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	*out = NULL;
	*outlen = 0;
	/* O_NONBLOCK: opening a FIFO nobody writes to must not hang */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int e;
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		one_line(err);
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
		one_line(err);
		return -EISDIR;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);

	size_t cap = 8192, n = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	for (;;) {
		if (n > MAX_SPEC_BYTES) {
			close(fd);
			free(buf);
			snprintf(err, errlen, "%s: too large for a spec (more than %u MiB)", path,
				 MAX_SPEC_BYTES >> 20);
			one_line(err);
			return -EINVAL;
		}
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				close(fd);
				free(buf);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			close(fd);
			free(buf);
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
			one_line(err);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = n;
	return 0;
}

/* True when line LINE0 of BUF is indented with a tab before its first other
 * character; *COL0 gets that tab's column. libyaml's messages for it ("found
 * character that cannot start any token") never say "tab". */
static bool tab_in_indent(const char *buf, size_t len, size_t line0, size_t *col0)
{
	size_t i = 0;
	for (size_t l = 0; l < line0 && i < len; i++)
		if (buf[i] == '\n')
			l++;
	for (size_t col = 0; i < len && (buf[i] == ' ' || buf[i] == '\t'); i++, col++) {
		if (buf[i] == '\t') {
			*col0 = col;
			return true;
		}
	}
	return false;
}

static int yaml_error(struct ctx *c, yaml_parser_t *p, const char *buf, size_t len)
{
	size_t line = 0, col = 0;
	if (p->error == YAML_MEMORY_ERROR)
		return oom(c);
	if (p->error == YAML_READER_ERROR) {
		/* no mark: count up to the offending byte */
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 0;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				col++;
			}
		}
		if (p->problem_value >= 0)
			return fail_at(c, line, col, "", "invalid YAML: %s (byte 0x%02x)",
				       p->problem ? p->problem : "unreadable input",
				       (unsigned)p->problem_value & 0xff);
		return fail_at(c, line, col, "", "invalid YAML: %s",
			       p->problem ? p->problem : "unreadable input");
	}
	line = p->problem_mark.line;
	col = p->problem_mark.column;
	if (tab_in_indent(buf, len, line, &col))
		return fail_at(c, line, col, "", "tab character in indentation: YAML indents with spaces");
	if (p->context)
		return fail_at(c, line, col, "", "invalid YAML: %s (%s at line %zu, column %zu)",
			       p->problem ? p->problem : "syntax error", p->context,
			       p->context_mark.line + 1, p->context_mark.column + 1);
	return fail_at(c, line, col, "", "invalid YAML: %s", p->problem ? p->problem : "syntax error");
}

/* A first pass over the events, before building the document: syntax errors, one
 * document only, and a nesting limit (libyaml's scanner is superlinear in the depth of
 * flow collections; stopping at MAX_DEPTH bounds how far it runs ahead). */
static int prescan(struct ctx *c, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, rc = 0;

	if (!yaml_parser_initialize(&p))
		return oom(c);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_error(c, &p, buf, len);
			break;
		}
		yaml_event_type_t type = ev.type;
		switch (type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = fail_at(c, ev.start_mark.line, ev.start_mark.column, "",
					     "a spec is one YAML document, but a second one starts here");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > MAX_DEPTH)
				rc = fail_at(c, ev.start_mark.line, ev.start_mark.column, "",
					     "nested more than %d levels deep", MAX_DEPTH);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return rc;
}

static int load(const char *path, struct tg_spec *spec, char *err, size_t errlen,
		struct tg_spec_errors *all)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (!spec)
		return -EINVAL;
	memset(spec, 0, sizeof *spec);
	if (!path || !*path) {
		snprintf(err, errlen, "no spec file given");
		return -EINVAL;
	}

	char *buf;
	size_t len;
	int rc = read_all(path, &buf, &len, err, errlen);
	if (rc)
		return rc;

	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { .doc = &doc, .file = path, .err = err, .errlen = errlen, .all = all };
	if ((rc = prescan(&c, buf, len))) {
		free(buf);
		return rc;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(buf);
		return oom(&c);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_error(&c, &parser, buf, len);
		goto out_parser;
	}
	rc = build(&c, spec);
	if (!rc && c.nerrors) /* a handler that went on after an error: still an error */
		rc = -EINVAL;
	drop_refs(&c);
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	free(buf);
	if (rc)
		tg_spec_free(spec);
	return rc;
}

int tg_spec_load(const char *path, struct tg_spec *spec, char *err, size_t errlen)
{
	return load(path, spec, err, errlen, NULL);
}

int tg_spec_load_all(const char *path, struct tg_spec *spec, struct tg_spec_errors *errs)
{
	char first[sizeof errs->msg[0]];
	errs->n = 0;
	errs->more = false;
	int rc = load(path, spec, first, sizeof first, errs);
	if (rc && !errs->n) { /* the file itself, or memory: no position */
		snprintf(errs->msg[0], sizeof errs->msg[0], "%s", first);
		errs->n = 1;
	}
	return rc;
}

void tg_spec_errors_print(FILE *f, const char *path, const struct tg_spec_errors *errs, size_t from)
{
	for (size_t i = from; i < errs->n; i++)
		fprintf(f, "tokio-guard: %s\n", errs->msg[i]);
	if (errs->more)
		fprintf(f, "tokio-guard: %s: more than %zu errors; the first %zu are above\n", path,
			errs->n, errs->n);
	else
		fprintf(f, "tokio-guard: %s: %zu error%s\n", path, errs->n, errs->n == 1 ? "" : "s");
}

static void free_steps(struct tg_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct tg_step *st = &steps[i];
		free(st->name);
		tg_strv_free(st->argv);
		tg_strv_free(st->env);
		free(st->cwd);
		free(st->http.url);
		free(st->http.method);
		tg_strv_free(st->http.headers);
		free(st->http.body);
		free(st->tcp.host);
		free(st->tcp.port);
		free(st->tcp.send);
		free(st->tcp.expect);
		free_steps(st->children, st->nchildren);
	}
	free(steps);
}

void tg_spec_free(struct tg_spec *spec)
{
	if (!spec)
		return;
	free(spec->path);
	free(spec->dir);
	free(spec->name);
	tg_strv_free(spec->target.argv);
	free(spec->target.cwd);
	tg_strv_free(spec->target.env);
	free(spec->target.ready.tcp_host);
	free(spec->target.ready.tcp_port);
	free(spec->target.user);
	free(spec->target.ready.http_url);
	free(spec->target.ready.log_regex);
	free_steps(spec->steps, spec->nsteps);
	for (size_t i = 0; i < spec->nallow; i++) {
		free(spec->allow[i].function);
		free(spec->allow[i].reason);
	}
	free(spec->allow);
	for (size_t i = 0; i < spec->nassertions; i++) {
		struct tg_assertion *a = &spec->assertions[i];
		free(a->pattern);
		for (size_t j = 0; j < a->nlimits; j++)
			free(a->limits[j].text);
		free(a->limits);
	}
	free(spec->assertions);
	free(spec->report.dir);
	free(spec->report.junit);
	free(spec->report.trace);
	free(spec->report.results);
	memset(spec, 0, sizeof *spec);
}
