/*
 * RFC 6962 / RFC 9162 Merkle hashing: leaf = SHA-256(0x00 || entry),
 * node = SHA-256(0x01 || left || right), and the empty tree's root = SHA-256("").
 */
#ifndef TRANSLOG_HASH_H
#define TRANSLOG_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TL_HASH_SIZE 32

typedef struct tl_hash {
	uint8_t b[TL_HASH_SIZE];
} tl_hash;

void tl_sha256(tl_hash *out, const void *data, size_t len);
void tl_hash_leaf(tl_hash *out, const void *entry, size_t len);
void tl_hash_node(tl_hash *out, const tl_hash *left, const tl_hash *right);
void tl_hash_empty(tl_hash *out);
int tl_hash_equal(const tl_hash *a, const tl_hash *b);

#endif
