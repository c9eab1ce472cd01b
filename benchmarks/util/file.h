/* Reading the benchmarks' input files whole. */
#ifndef BUNDLED_BENCH_FILE_H
#define BUNDLED_BENCH_FILE_H

#include <stddef.h>
#include <stdint.h>

/* The whole file (free it), or NULL if it cannot be opened. A file larger than `max` bytes, or
 * a read error, ends the program with a message: a benchmark never measures half an input. */
uint8_t *bench_read_file(const char *path, size_t max, size_t *len);

#endif
