/* Who the target runs as: target.user resolved to uid, gid and groups, the
 * privileges dropped in the child, and the environment that goes with them. */
#define _GNU_SOURCE
#include "target_parts.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- users ---- */

/* The variables a program reads to know who and where home is: left as
 * root's, a dropped-privilege target would write into /root and fail. */
static void fill_env(struct tg_identity *id, const struct passwd *pw)
{
	if (pw && pw->pw_dir && pw->pw_dir[0])
		snprintf(id->env[0], sizeof id->env[0], "HOME=%s", pw->pw_dir);
	snprintf(id->env[1], sizeof id->env[1], "USER=%s", id->name);
	snprintf(id->env[2], sizeof id->env[2], "LOGNAME=%s", id->name);
}

static void fill_groups(struct tg_identity *id, const char *name)
{
	int n = (int)(sizeof id->groups / sizeof id->groups[0]);

	if (name && getgrouplist(name, id->gid, id->groups, &n) >= 0) {
		id->ngroups = n;
		return;
	}
	if (name && n > 0) { /* more groups than we keep: the first ones */
		id->ngroups = (int)(sizeof id->groups / sizeof id->groups[0]);
		return;
	}
	id->groups[0] = id->gid;
	id->ngroups = 1;
}

static bool parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v < (unsigned long)(uid_t)-1;
}

int tg_resolve_identity(const char *user, struct tg_identity *id, char *err, size_t errlen)
{
	struct passwd *pw;
	unsigned long u, g;

	memset(id, 0, sizeof *id);
	if (!user || !*user) {
		/* through sudo: the invoking user, not root */
		if (geteuid() != 0 || !parse_id(getenv("SUDO_UID"), &u) ||
		    !parse_id(getenv("SUDO_GID"), &g) || u == 0)
			return 0;
		id->uid = (uid_t)u;
		id->gid = (gid_t)g;
		pw = getpwuid(id->uid);
		if (pw)
			snprintf(id->name, sizeof id->name, "%s", pw->pw_name);
		else
			snprintf(id->name, sizeof id->name, "%lu", u);
		fill_groups(id, pw ? pw->pw_name : NULL);
		fill_env(id, pw);
		id->set = true;
		return 0;
	}
	if (parse_id(user, &u)) {
		pw = getpwuid((uid_t)u);
		id->uid = (uid_t)u;
		/* no passwd entry: a group of the same number, as user-private groups go */
		id->gid = pw ? pw->pw_gid : (gid_t)u;
	} else {
		pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "target.user: no such user '%s'", user);
			return -ENOENT;
		}
		id->uid = pw->pw_uid;
		id->gid = pw->pw_gid;
	}
	if (geteuid() != 0 && geteuid() != id->uid) {
		snprintf(err, errlen, "target.user: running the target as '%s' needs root "
			 "(tokio-guard runs as uid %u): use sudo", user, (unsigned)geteuid());
		return -EPERM;
	}
	snprintf(id->name, sizeof id->name, "%s", pw ? pw->pw_name : user);
	fill_groups(id, pw ? pw->pw_name : NULL);
	fill_env(id, pw);
	id->set = geteuid() == 0;
	return 0;
}

int tg_drop_privileges(const struct tg_identity *id)
{
	if (!id || !id->set)
		return 0;
	if (setgroups((size_t)id->ngroups, id->groups) < 0)
		return -errno;
	if (setgid(id->gid) < 0)
		return -errno;
	if (setuid(id->uid) < 0)
		return -errno;
	/* no way back: a saved set-user-ID of 0 would allow one */
	if (id->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	if (id->uid != 0 && id->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
		return -EPERM;
	return 0;
}

static bool same_key(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");

	return la == lb && memcmp(a, b, la) == 0;
}

static bool has_key(char *const *v, size_t n, const char *entry)
{
	for (size_t i = 0; i < n; i++)
		if (v[i][0] && same_key(v[i], entry))
			return true;
	return false;
}

char **tg_build_env(char *const *extra)
{
	const struct tg_identity *id = tg_child_identity();
	char *mine[3];
	size_t n = 0, m = 0, nm = 0, k = 0;
	char **env;

	/* the user's own variables, unless the spec sets them */
	for (int i = 0; id && id->set && i < 3; i++)
		if (id->env[i][0])
			mine[nm++] = (char *)id->env[i];
	while (environ && environ[n])
		n++;
	while (extra && extra[m])
		m++;
	env = calloc(n + nm + m + 1, sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!has_key(extra, m, environ[i]) && !has_key(mine, nm, environ[i]))
			env[k++] = environ[i];
	for (size_t i = 0; i < nm; i++)
		if (!has_key(extra, m, mine[i]))
			env[k++] = mine[i];
	for (size_t j = 0; j < m; j++)
		if (strchr(extra[j], '=')) /* a bare KEY unsets, like putenv */
			env[k++] = extra[j];
	return env;
}

int check_cwd(const char *cwd, char *err, size_t errlen)
{
	struct stat st;
	int e;

	if (!cwd)
		return 0;
	if (stat(cwd, &st) < 0)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else
		return 0;
	snprintf(err, errlen, "cannot use target cwd %s: %s", cwd, strerror(e));
	return -e;
}
