#include "bundled/sse.h"

#include <string.h>

#include "translog/text.h"

static const uint8_t bom[3] = { 0xef, 0xbb, 0xbf };

void bd_sse_init(bd_sse_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->line = tl_buf_make(BD_SSE_MAX_LINE);
	p->data = tl_buf_make(BD_SSE_MAX_EVENT + 1);
}

void bd_sse_free(bd_sse_parser *p)
{
	tl_buf_free(&p->line);
	tl_buf_free(&p->data);
}

void bd_sse_reset(bd_sse_parser *p)
{
	tl_buf_reset(&p->line);
	tl_buf_reset(&p->data);
	p->has_data = false;
	p->after_cr = false;
	p->started = false;
	p->type[0] = '\0';
}

/* Copies value[0..n) into a field of cap bytes (with the NUL). */
static int set_text(char *dst, size_t cap, const char *value, size_t n, const char *what)
{
	if (n >= cap)
		return tl_error_set(TL_E_INPUT, "event stream: an event %s of more than %zu bytes", what, cap - 1);
	memcpy(dst, value, n);
	dst[n] = '\0';
	return 0;
}

static int dispatch(bd_sse_parser *p, bd_sse_callback fn, void *ctx)
{
	bd_sse_event ev;
	int rc = 0;

	if (p->has_data) {
		/* The last data line's LF is not part of the data; the NUL takes its place. */
		p->data.data[p->data.len - 1] = '\0';
		ev = (bd_sse_event){ .type = p->type[0] ? p->type : "message", .data = (const char *)p->data.data,
			.data_len = p->data.len - 1, .id = p->id };
		rc = fn(ctx, &ev);
	}
	tl_buf_reset(&p->data);
	p->has_data = false;
	p->type[0] = '\0';
	return rc;
}

/* One complete line (without its end), checked for UTF-8 and NUL. */
static int process_line(bd_sse_parser *p, bd_sse_callback fn, void *ctx)
{
	const char *line = (const char *)p->line.data;
	size_t len = p->line.len, name_len, value_len;
	const char *colon, *value;
	uint64_t retry;

	for (size_t i = 0; i < len;) {
		uint32_t rune;
		size_t k = tl_utf8_next(&rune, p->line.data + i, len - i);

		if (k == 0 || rune == 0)
			return tl_error_set(TL_E_INPUT, "event stream: %s", k == 0 ? "not valid UTF-8" : "a NUL byte");
		i += k;
	}
	if (len == 0)
		return dispatch(p, fn, ctx);
	if (line[0] == ':')
		return 0;
	colon = memchr(line, ':', len);
	name_len = colon != NULL ? (size_t)(colon - line) : len;
	value = colon != NULL ? colon + 1 : line + len;
	value_len = (size_t)(line + len - value);
	if (value_len > 0 && value[0] == ' ') {
		value++;
		value_len--;
	}
	if (name_len == 4 && memcmp(line, "data", 4) == 0) {
		p->has_data = true;
		if (tl_buf_append(&p->data, value, value_len) != 0 || tl_buf_append(&p->data, "\n", 1) != 0)
			return tl_error_set(TL_E_INPUT, "event stream: an event of more than %d bytes", BD_SSE_MAX_EVENT);
		return 0;
	}
	if (name_len == 5 && memcmp(line, "event", 5) == 0)
		return set_text(p->type, sizeof(p->type), value, value_len, "type");
	if (name_len == 2 && memcmp(line, "id", 2) == 0)
		return set_text(p->id, sizeof(p->id), value, value_len, "id");
	if (name_len == 5 && memcmp(line, "retry", 5) == 0 && value_len > 0 && value_len <= 9) {
		retry = 0;
		for (size_t i = 0; i < value_len && retry != UINT64_MAX; i++)
			retry = value[i] >= '0' && value[i] <= '9' ? retry * 10 + (uint64_t)(value[i] - '0') : UINT64_MAX;
		if (retry != UINT64_MAX)
			p->retry_ms = retry;
	}
	return 0;
}

int bd_sse_feed(bd_sse_parser *p, const uint8_t *data, size_t len, bd_sse_callback fn, void *ctx)
{
	size_t i = 0;
	int rc;

	while (!p->started && i < len) {
		/* A BOM may open the stream; its bytes wait in `line` until it is known. */
		size_t have = p->line.len;

		if (data[i] != bom[have]) {
			p->started = true;
			break;
		}
		if (tl_buf_append(&p->line, &data[i++], 1) != 0)
			return tl_error_set(TL_E_INTERNAL, "event stream: no room for a BOM");
		if (p->line.len == sizeof(bom)) {
			tl_buf_reset(&p->line);
			p->started = true;
		}
	}
	while (i < len) {
		size_t run = i;

		if (data[i] == '\n' && p->after_cr) {
			p->after_cr = false;
			i++;
			continue;
		}
		if (data[i] == '\r' || data[i] == '\n') {
			p->after_cr = data[i++] == '\r';
			rc = process_line(p, fn, ctx);
			tl_buf_reset(&p->line);
			if (rc != 0)
				return rc;
			continue;
		}
		p->after_cr = false;
		while (run < len && data[run] != '\r' && data[run] != '\n')
			run++;
		if (tl_buf_append(&p->line, data + i, run - i) != 0)
			return tl_error_set(TL_E_INPUT, "event stream: a line of more than %d bytes", BD_SSE_MAX_LINE);
		i = run;
	}
	return 0;
}
