/* Files in tests: read whole, write whole. */
#ifndef TG_TEST_FILES_H
#define TG_TEST_FILES_H

#include <stddef.h>

/* The whole file, NUL-terminated (malloc'd), its size in *LEN when LEN is
 * given; NULL when it cannot be read. */
char *tg_test_read(const char *path, size_t *len);
/* Writes TEXT to PATH; 1 on success, 0 on failure. */
int tg_test_write(const char *path, const char *text);

#endif
