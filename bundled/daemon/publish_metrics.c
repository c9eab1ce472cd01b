#include "publish_metrics.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const kinds[PUBLISH_NKINDS] = { "domain", "key", "bundle", "revocation" };

/* Bounded, so every series exists from start; a code not listed counts as "other" (last). */
static const char *const reasons[PUBLISH_METRICS_NREASONS] = { "bad_input", "unauthorized", "conflict",
	"not_found", "rate_limited", "unsupported_media_type", "read_only_replica", "unavailable", "io_error",
	"out_of_memory", "internal", "other" };

int publish_metrics_register(struct publish_metrics *pm, struct metrics *m)
{
	char labels[64];
	int err;

	for (size_t i = 0; i < PUBLISH_NKINDS; i++) {
		snprintf(labels, sizeof(labels), "kind=\"%s\"", kinds[i]);
		if ((err = metrics_counter(&pm->published[i], m, "bundled_publishes_total",
			     "Writes that added an entry to the log, by what it adds.", labels)) != 0)
			return err;
	}
	for (size_t i = 0; i < PUBLISH_METRICS_NREASONS; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reasons[i]);
		if ((err = metrics_counter(&pm->refused[i], m, "bundled_publish_refusals_total",
			     "Writes refused, by the error code of the answer.", labels)) != 0)
			return err;
	}
	return 0;
}

static void count_refusal(struct publish_metrics *pm, const char *code)
{
	size_t i = 0;

	while (i + 1 < PUBLISH_METRICS_NREASONS && (code == NULL || strcmp(code, reasons[i]) != 0))
		i++;
	metric_inc(pm->refused[i]);
}

/* The "code" of an {"error":{"code","message"}} answer a route made itself (429, 415, 503). */
static void count_answered_refusal(struct publish_metrics *pm, const bd_httpd_response *res)
{
	json_t *doc = res->body.data != NULL ? json_loadb((const char *)res->body.data, res->body.len, 0, NULL) : NULL;

	count_refusal(pm, json_string_value(json_object_get(json_object_get(doc, "error"), "code")));
	json_decref(doc);
}

int publish_metrics_count(struct publish_metrics *pm, const bd_httpd_response *res, enum publish_kind kind, int err)
{
	if (err != 0)
		count_refusal(pm, tl_err_name(err));
	else if (res->status == 201)
		metric_inc(pm->published[kind]);
	else if (res->status >= 400)
		count_answered_refusal(pm, res);
	return err;
}
