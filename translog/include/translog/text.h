/*
 * Text from outside: UTF-8 decoding for the formats that allow it (signed notes, key names),
 * and the one way to make outside bytes safe to quote in an error message or a log line.
 */
#ifndef TRANSLOG_TEXT_H
#define TRANSLOG_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 code point from s (len > 0 bytes): returns its length (1-4) and sets
 * *rune, or returns 0 if the bytes are not valid UTF-8 (overlong forms, surrogates and code
 * points above U+10FFFF are invalid). */
size_t tl_utf8_next(uint32_t *rune, const uint8_t *s, size_t len);

/* The value of a hex digit of either case, as percent-encoding (RFC 3986 2.1) and HTTP
 * chunk sizes write them, or -1. (tl_hex_decode, for canonical forms, takes lower case only.) */
int tl_hex_digit(int c);

/* Writes a printable one-line form of the n bytes at s into out (out_size >= 1; always
 * NUL-terminated) and returns out. Printable ASCII stays as it is, except '"' and '\\';
 * every other byte becomes "\xNN". The result is plain ASCII that can stand inside double
 * quotes in a log line, a JSON string or a terminal: no control byte, no broken UTF-8 (bytes
 * >= 0x80 are escaped one by one, never cut). Input that does not fit is cut between two
 * whole characters or escapes and ends in "...". */
const char *tl_text_printable(char *out, size_t out_size, const void *s, size_t n);

/* The same escaping for a whole line that is not itself quoted (a CLI message on a terminal):
 * '"' and '\\' stay as they are, so a message that quotes text already made printable
 * (`"PRIV\x0dATE" block`) is not escaped twice. Control bytes and bytes >= 0x80 are escaped
 * as above, so the line stays one line of plain ASCII. */
const char *tl_text_printable_line(char *out, size_t out_size, const void *s, size_t n);

/* FNV-1a (64 bits) of a NUL-terminated string: where a name goes in an in-memory table
 * (the daemon's caches, the auditor's domains). Fast and well spread, but anyone can make
 * two names collide: only for tables where a collision costs a miss or a probe. */
uint64_t tl_text_hash(const char *s);

#endif
