#include "multibase.h"

#include <string.h>

#include "translog/bytes.h"

static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char base58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

size_t bd_multibase__base32_encoded_len(size_t len)
{
	return (len * 8 + 4) / 5;
}

void bd_multibase__base32_encode(char *out, const uint8_t *data, size_t len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = base32_alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		out[o++] = base32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static int base32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int bd_multibase__base32_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	/* 1, 3 and 6 trailing characters carry fewer than 8 bits: no byte string encodes so. */
	switch (in_len % 8) {
	case 1:
	case 3:
	case 6:
		return tl_error_set(TL_E_INPUT, "base32: impossible length %zu", in_len);
	default:
		break;
	}
	for (size_t i = 0; i < in_len; i++) {
		int v = base32_value(in[i]);

		if (v < 0)
			return tl_error_set(TL_E_INPUT, "base32: bad character at offset %zu", i);
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return tl_error_set(TL_E_INPUT, "base32: decodes to more than %zu bytes", cap);
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return tl_error_set(TL_E_INPUT, "base32: non-zero trailing bits");
	*out_len = o;
	return 0;
}

static int base58_value(char c)
{
	const char *p = c ? strchr(base58_alphabet, c) : NULL;

	return p ? (int)(p - base58_alphabet) : -1;
}

int bd_multibase__base58btc_decode(uint8_t *out, size_t cap, size_t *out_len, const char *in, size_t in_len)
{
	/* Big-endian base-256 digits of the number read so far; log(58)/log(256) < 0.733. */
	uint8_t num[BD_BASE58_MAX_TEXT];
	size_t nlen = 0, zeros = 0, total;

	if (in_len > BD_BASE58_MAX_TEXT)
		return tl_error_set(TL_E_INPUT, "base58btc: longer than %d characters", BD_BASE58_MAX_TEXT);
	while (zeros < in_len && in[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < in_len; i++) {
		int v = base58_value(in[i]);
		uint32_t carry;

		if (v < 0)
			return tl_error_set(TL_E_INPUT, "base58btc: bad character at offset %zu", i);
		carry = (uint32_t)v;
		/* num = num * 58 + v, digits stored least significant first. */
		for (size_t j = 0; j < nlen; j++) {
			carry += (uint32_t)num[j] * 58;
			num[j] = (uint8_t)carry;
			carry >>= 8;
		}
		while (carry) {
			if (nlen == sizeof(num))
				return tl_error_set(TL_E_INTERNAL, "base58btc: number overflow");
			num[nlen++] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	if (!tl_size_add(&total, zeros, nlen) || total > cap)
		return tl_error_set(TL_E_INPUT, "base58btc: decodes to more than %zu bytes", cap);
	memset(out, 0, zeros);
	for (size_t j = 0; j < nlen; j++)
		out[zeros + j] = num[nlen - 1 - j];
	*out_len = total;
	return 0;
}

int bd_multibase__base58btc_encode(char *out, size_t cap, const uint8_t *data, size_t len)
{
	/* Base-58 digits, least significant first; 64 bytes need at most 88 digits. */
	uint8_t digits[2 * 64];
	size_t ndig = 0, zeros = 0, o = 0;

	if (len > 64)
		return tl_error_set(TL_E_INPUT, "base58btc: more than 64 bytes to encode");
	while (zeros < len && data[zeros] == 0)
		zeros++;
	for (size_t i = zeros; i < len; i++) {
		uint32_t carry = data[i];

		for (size_t j = 0; j < ndig; j++) {
			carry += (uint32_t)digits[j] << 8;
			digits[j] = (uint8_t)(carry % 58);
			carry /= 58;
		}
		while (carry) {
			digits[ndig++] = (uint8_t)(carry % 58);
			carry /= 58;
		}
	}
	if (zeros + ndig + 1 > cap)
		return tl_error_set(TL_E_INPUT, "base58btc: output buffer too small");
	for (size_t i = 0; i < zeros; i++)
		out[o++] = '1';
	for (size_t j = ndig; j-- > 0;)
		out[o++] = base58_alphabet[digits[j]];
	out[o] = '\0';
	return 0;
}
