/*
 * Runs a libFuzzer target over files named on the command line, without libFuzzer: the
 * test suite replays every checked-in corpus (and past crashes) with the normal compiler
 * and sanitizers, so a parser regression shows up in `make test`, not only in `make fuzz`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long size;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 2;
		}
		/* One spare byte so an empty file still gets a valid pointer. */
		buf = malloc((size_t)size + 1);
		if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 2;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)size);
		free(buf);
	}
	return 0;
}
