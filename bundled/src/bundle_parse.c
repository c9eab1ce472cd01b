/*
 * The one entry point that reads a bundle of unknown format: it sniffs the first byte and
 * hands the input to the reader of that format. It sits above the format readers
 * (bundle_json.c, bundle_pem.c), which sit above the model (bundle.c); nothing below calls
 * back up here.
 */
#include "bundle_internal.h"

int bd_bundle_parse(bd_bundle **out, const uint8_t *data, size_t len, unsigned flags, bd_bundle_report *report)
{
	size_t i = 0;
	int err;

	*out = NULL;
	if ((err = bd_bundle__check_input(data, len, flags)) != 0)
		return err;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && data[i] == '{')
		return bd_bundle_parse_json(out, data, len, flags, report);
	return bd_bundle_parse_pem(out, data, len, flags, report);
}
