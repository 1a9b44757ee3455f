/* The units of the spec's values: durations ("250ms"), rates ("100/s"),
 * percentages, signals and sizes ("16MB"), each parsed with the reason when it
 * is wrong; durations formatted back for messages and reports. */
#define _GNU_SOURCE
#include "spec_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

bool is_digit(char c)
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

/* "64KB", "16MB", "1GB" (K = 1024), with or without B or iB, any case, or
 * plain bytes; 0 when S is none of these or too big. */
uint64_t parse_bytes(const char *s)
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

void format_bytes(uint64_t x, char *out, size_t len)
{
	static const char *const units[] = { "B", "KB", "MB", "GB" };
	size_t u = 0;

	while (u < 3 && x && x % 1024 == 0) {
		x /= 1024;
		u++;
	}
	snprintf(out, len, "%llu%s", (unsigned long long)x, units[u]);
}
