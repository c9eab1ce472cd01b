#include "translog/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int tl_array_grow(void *items, size_t *alloc, size_t need, size_t size, size_t max)
{
	void *old, *grown;
	size_t n, bytes;

	if (need <= *alloc)
		return 0;
	if (need > max)
		return tl_error_set(TL_E_INPUT, "more than %zu items", max);
	n = *alloc ? *alloc : 8;
	while (n < need)
		n = n > max / 2 ? max : n * 2;
	if (__builtin_mul_overflow(n, size, &bytes))
		return tl_error_set(TL_E_NOMEM, "an array of %zu items of %zu bytes is too large", n, size);
	/* `items` is a T **: copied through memcpy, since T * and void * may not alias. */
	memcpy(&old, items, sizeof(old));
	if ((grown = realloc(old, bytes)) == NULL)
		return tl_error_set(TL_E_NOMEM, "out of memory growing an array to %zu items", n);
	memcpy(items, &grown, sizeof(grown));
	*alloc = n;
	return 0;
}
