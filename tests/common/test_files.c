/* Files in tests: read whole, write whole, remove a folder. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_files.h"

char *tg_test_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe"), *m;
	char *buf = NULL, chunk[65536];
	size_t size = 0, n;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &size);
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	if (m)
		fclose(m);
	fclose(f);
	if (len)
		*len = buf ? size : 0;
	return buf;
}

int tg_test_write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		return 0;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

int tg_test_write(const char *path, const char *text)
{
	return tg_test_write_bytes(path, text, strlen(text));
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

int tg_test_rm_rf(const char *dir)
{
	/* depth first, not following links: a test's folder, never what it points at */
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 1 : 0;
}
