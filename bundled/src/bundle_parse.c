/*
 * The one entry point that reads a bundle of unknown format: it sniffs the first byte and
 * hands the input to the reader of that format. It sits above the format readers
 * (bundle_json.c, bundle_pem.c), which sit above the model (bundle.c); nothing below calls
 * back up here.
 */
#include "bundle_internal.h"

int bd_bundle_parse(bd_bundle **out, const uint8_t *data, size_t len, bd_bundle_report *report)
{
	size_t i = 0;

	*out = NULL;
	if (len > BD_MAX_BUNDLE_SIZE)
		return tl_error_set(TL_E_INPUT, "bundle of %zu bytes, over the limit of %u", len, BD_MAX_BUNDLE_SIZE);
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && data[i] == '{')
		return bd_bundle_parse_json(out, data, len, report);
	return bd_bundle_parse_pem(out, data, len, report);
}
