/*
 * The one error model of bundled: every fallible function of translog, the bundled core,
 * the daemon and the CLI returns 0 on success or a negative tl_err, and records a one-line
 * message in thread-local storage that the caller may read until the next failure.
 *
 * The category decides what the outside world sees: the daemon maps it to an HTTP status
 * (tl_err_http_status), the CLI to an exit code and a line on stderr.
 */
#ifndef TRANSLOG_ERROR_H
#define TRANSLOG_ERROR_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define TL_MUST_USE __attribute__((warn_unused_result))
#define TL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TL_MUST_USE
#define TL_PRINTF(f, a)
#endif

typedef enum tl_err {
	TL_OK = 0,
	TL_E_INPUT = -1,        /* malformed or non-canonical input, or over a limit */
	TL_E_NOTFOUND = -2,     /* the thing asked for does not exist (yet) */
	TL_E_CONFLICT = -3,     /* well formed, but contradicts what is stored (rollback, duplicate) */
	TL_E_UNAUTHORIZED = -4, /* a signature or key check failed */
	TL_E_IO = -5,           /* storage, file system or network failed */
	TL_E_INTERNAL = -6,     /* a bug or an impossible state: never the caller's fault */
	TL_E_NOMEM = -7,        /* an allocation failed */
	TL_E_UNAVAILABLE = -8,  /* a peer (IPFS, a witness) is down or timed out; retry later */
} tl_err;

/* Records `code` with a printf-style message for this thread and returns `code`, so that
 * `return tl_error_set(TL_E_INPUT, "bad %s", what);` is the usual way to fail. */
int tl_error_set(int code, const char *fmt, ...) TL_PRINTF(2, 3);

/* Prefixes the current message with "<context>: ", keeping the code. Returns `code`.
 * Used when a lower layer's message needs the caller's context ("entry 3: bad base64"). */
int tl_error_wrap(int code, const char *fmt, ...) TL_PRINTF(2, 3);

/* The last message recorded on this thread, or "" if none. Never NULL. */
const char *tl_error_message(void);

/* The code recorded with the last message on this thread, TL_OK if none. */
int tl_error_code(void);

/* Forgets the last error of this thread. */
void tl_error_clear(void);

/* A stable lower-case name for a code ("bad_input", "not_found", ...), used in JSON errors. */
const char *tl_err_name(int code);

/* The HTTP status that fits a code (400, 404, 409, 401, 500, 500, 503, ...). */
int tl_err_http_status(int code);

#endif
