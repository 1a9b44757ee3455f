/* Strings for the spec parser: growable string vectors and buffers, values quoted
 * for messages, shell-like word splitting (target.command, exec steps) and the
 * paths a spec names (relative to its own folder). */
#define _GNU_SOURCE
#include "spec_parse.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ strings */

void tg_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int strv_push(struct strv *sv, char *s)
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
char **strv_take(struct strv *sv)
{
	char **v = sv->v ? sv->v : calloc(1, sizeof *v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
	return v;
}

void strv_drop(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

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
void quote(char *out, size_t outlen, const char *s, size_t len)
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
void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* ---------------------------------------------------------- command splitting */

/* Shell-like word splitting; on error WHY gets the reason and *ERR_OFF the byte offset
 * in S of the offending character. */
int split_words(const char *s, char ***argv, char *why, size_t whylen, size_t *err_off)
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
char *abs_join(const char *base, const char *rel)
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

char *spec_folder(const char *path)
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

char *default_name(const char *path)
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
