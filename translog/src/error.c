#include "translog/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { MESSAGE_MAX = 512 };

static _Thread_local char message[MESSAGE_MAX];
static _Thread_local int last_code;

int tl_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int tl_error_wrap(int code, const char *fmt, ...)
{
	char old[MESSAGE_MAX];
	size_t used, old_len;
	va_list ap;

	memcpy(old, message, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/* Messages are one line of diagnostics: truncating a long chain is acceptable. */
	used = strlen(message);
	old_len = strlen(old);
	if (old_len > 0 && used + 2 < sizeof(message)) {
		size_t room = sizeof(message) - used - 3;

		memcpy(message + used, ": ", 2);
		used += 2;
		if (old_len > room)
			old_len = room;
		memcpy(message + used, old, old_len);
		message[used + old_len] = '\0';
	}
	last_code = code;
	return code;
}

const char *tl_error_message(void)
{
	return message;
}

int tl_error_code(void)
{
	return last_code;
}

void tl_error_clear(void)
{
	message[0] = '\0';
	last_code = TL_OK;
}

const char *tl_err_name(int code)
{
	switch (code) {
	case TL_OK: return "ok";
	case TL_E_INPUT: return "bad_input";
	case TL_E_NOTFOUND: return "not_found";
	case TL_E_CONFLICT: return "conflict";
	case TL_E_UNAUTHORIZED: return "unauthorized";
	case TL_E_IO: return "io_error";
	case TL_E_NOMEM: return "out_of_memory";
	case TL_E_UNAVAILABLE: return "unavailable";
	default: return "internal";
	}
}

int tl_err_http_status(int code)
{
	switch (code) {
	case TL_OK: return 200;
	case TL_E_INPUT: return 400;
	case TL_E_NOTFOUND: return 404;
	case TL_E_CONFLICT: return 409;
	case TL_E_UNAUTHORIZED: return 401;
	case TL_E_UNAVAILABLE: return 503;
	default: return 500;
	}
}
