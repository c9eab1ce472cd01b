/*
 * Synthetic bundles for the benchmarks: many distinct self-signed CA certificates, so a
 * benchmark can reach sizes (10 MB) that no real CA bundle has. Not part of any library:
 * the Makefile links every .c file of benchmarks/util into every benchmark.
 */
#ifndef BUNDLED_BENCH_SYNTH_H
#define BUNDLED_BENCH_SYNTH_H

#include <stddef.h>
#include <stdint.h>

/* A list of DER certificates. */
struct bench_certs {
	uint8_t **der;
	size_t *len;
	size_t n;
};

/* Self-signed P-256 CA certificates ("bench CA 1", "bench CA 2", ...; serial = number;
 * basicConstraints critical CA:TRUE; valid for a year from now) until the canonical SPIFFE
 * bundle of them would pass `target` bytes (each canonical line holds the base64 DER and
 * about 150 bytes of key members). The CAs share one key: key generation is not what the
 * benchmarks measure, and each certificate is still a distinct authority. Appends to `out`
 * (zero-initialise it); 0 on success, -1 if OpenSSL or memory failed. */
int bench_synth_cas(struct bench_certs *out, size_t target);

/* Frees every certificate and the lists, and zeroes `c`. */
void bench_certs_free(struct bench_certs *c);

#endif
