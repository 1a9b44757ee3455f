/* Files in tests: read whole, write whole. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

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

int tg_test_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		return 0;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok;
}
