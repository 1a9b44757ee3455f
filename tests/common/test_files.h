/* Files in tests: read whole, write whole, remove a folder. */
#ifndef TG_TEST_FILES_H
#define TG_TEST_FILES_H

#include <stddef.h>

/* The whole file, NUL-terminated (malloc'd), its size in *LEN when LEN is
 * given; NULL when it cannot be read. */
char *tg_test_read(const char *path, size_t *len);
/* Writes TEXT to PATH; 1 on success, 0 on failure. */
int tg_test_write(const char *path, const char *text);
/* Writes LEN bytes of DATA (NULs included: a fuzzer's input) to PATH; 1 or 0. */
int tg_test_write_bytes(const char *path, const void *data, size_t len);
/* Removes DIR and everything below it (links removed, not followed); 1 or 0. */
int tg_test_rm_rf(const char *dir);

#endif
