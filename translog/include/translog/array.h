/*
 * The one way to grow an array of structs by hand: amortised doubling with an explicit upper
 * bound, so a list built from outside input (warnings, links, pin roots) can never grow
 * without limit or overflow its byte size.
 */
#ifndef TRANSLOG_ARRAY_H
#define TRANSLOG_ARRAY_H

#include <stddef.h>

#include "translog/error.h"

/* `items` is the address of the array pointer (a `T **`, NULL for an empty array), `alloc`
 * how many items it has room for. Makes room for at least `need` items of `size` bytes,
 * at most `max` of them. Returns 0, TL_E_INPUT if `need` passes `max` (the message names the
 * limit), or TL_E_NOMEM; on failure *items and *alloc are unchanged. Free with free(). */
int tl_array_grow(void *items, size_t *alloc, size_t need, size_t size, size_t max) TL_MUST_USE;

#endif
