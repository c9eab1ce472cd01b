#include "config_http.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "translog/bytes.h"

#define MAX_TIMEOUT_S 86400

enum { F_LOOPS, F_WORKERS, F_MAX_CONNECTIONS, F_MAX_PER_ADDRESS, F_REQUEST_TIMEOUT, F_IDLE_TIMEOUT,
	F_WRITE_TIMEOUT, F_MAX_BODY, F_WATCH_MAX, F_WATCH_PER_CLIENT, F_WATCH_KEEPALIVE, F_BUNDLE_CACHE, F_COUNT };
/* The TLS files: flags and keys of their own, after the numbers. */
enum { F_TLS_CERT = F_COUNT, F_TLS_KEY, F_TLS_CLIENT_CA, F_ALL };

static const struct {
	const char *key, *flag;
	size_t offset;
} tls_settings[F_ALL - F_COUNT] = {
	{ "tls_cert", "tls-cert", offsetof(struct config_http, tls_cert) },
	{ "tls_key", "tls-key", offsetof(struct config_http, tls_key) },
	{ "tls_client_ca", "tls-client-ca", offsetof(struct config_http, tls_client_ca) },
};

/* Key and flag names, in the order of the enum. */
static const struct {
	const char *key, *flag;
	unsigned long long max; /* for counts; timeouts are bounded by MAX_TIMEOUT_S */
	int seconds;
} settings[F_COUNT] = {
	{ "loops", "loops", 64, 0 },
	{ "workers", "workers", 256, 0 },
	{ "max_connections", "max-connections", 1u << 20, 0 },
	{ "max_per_address", "max-per-address", 1u << 20, 0 },
	{ "request_timeout", "request-timeout", 0, 1 },
	{ "idle_timeout", "idle-timeout", 0, 1 },
	{ "write_timeout", "write-timeout", 0, 1 },
	{ "max_body", "max-body", 64u << 20, 0 },
	{ "watch_max", "watch-max", 1u << 20, 0 },
	{ "watch_max_per_client", "watch-max-per-client", 1u << 20, 0 },
	{ "watch_keepalive", "watch-keepalive", 0, 1 },
	{ "bundle_cache", "bundle-cache", CONFIG_HTTP_MAX_BUNDLE_CACHE, 0 },
};

const struct option config_http_flags[] = {
	{ "loops", required_argument, NULL, CONFIG_HTTP_FLAG + F_LOOPS },
	{ "workers", required_argument, NULL, CONFIG_HTTP_FLAG + F_WORKERS },
	{ "max-connections", required_argument, NULL, CONFIG_HTTP_FLAG + F_MAX_CONNECTIONS },
	{ "max-per-address", required_argument, NULL, CONFIG_HTTP_FLAG + F_MAX_PER_ADDRESS },
	{ "request-timeout", required_argument, NULL, CONFIG_HTTP_FLAG + F_REQUEST_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, CONFIG_HTTP_FLAG + F_IDLE_TIMEOUT },
	{ "write-timeout", required_argument, NULL, CONFIG_HTTP_FLAG + F_WRITE_TIMEOUT },
	{ "max-body", required_argument, NULL, CONFIG_HTTP_FLAG + F_MAX_BODY },
	{ "watch-max", required_argument, NULL, CONFIG_HTTP_FLAG + F_WATCH_MAX },
	{ "watch-max-per-client", required_argument, NULL, CONFIG_HTTP_FLAG + F_WATCH_PER_CLIENT },
	{ "watch-keepalive", required_argument, NULL, CONFIG_HTTP_FLAG + F_WATCH_KEEPALIVE },
	{ "bundle-cache", required_argument, NULL, CONFIG_HTTP_FLAG + F_BUNDLE_CACHE },
	{ "tls-cert", required_argument, NULL, CONFIG_HTTP_FLAG + F_TLS_CERT },
	{ "tls-key", required_argument, NULL, CONFIG_HTTP_FLAG + F_TLS_KEY },
	{ "tls-client-ca", required_argument, NULL, CONFIG_HTTP_FLAG + F_TLS_CLIENT_CA },
	{ NULL, 0, NULL, 0 },
};

const char config_http_usage[] =
	"HTTP server limits (config keys: loops, workers, max_connections, max_per_address,\n"
	"request_timeout, idle_timeout, write_timeout, max_body, watch_max, watch_max_per_client,\n"
	"watch_keepalive, bundle_cache; timeouts in seconds):\n"
	"  --loops N              event-loop threads (default 2)\n"
	"  --workers N            threads for requests that read storage or write (default 32)\n"
	"  --max-connections N    open connections overall; more are answered 503 (default 16384)\n"
	"  --max-per-address N    open connections per client address; more are answered 429 (default 256)\n"
	"  --request-timeout S    a whole request must arrive within S seconds of its first byte, or 408 (default 10)\n"
	"  --idle-timeout S       a keep-alive connection waits S seconds for its next request (default 60)\n"
	"  --write-timeout S      a client that takes no response byte for S seconds is dropped (default 30)\n"
	"  --max-body BYTES       larger request bodies are answered 413 (default 1048576)\n"
	"  --watch-max N          open /v1/watch streams overall; more are answered 503 (default 16384)\n"
	"  --watch-max-per-client N  open /v1/watch streams per client address; more are answered 429\n"
	"                         (default 64)\n"
	"  --watch-keepalive S    a keep-alive comment on every watch stream each S seconds (default 15)\n"
	"  --bundle-cache BYTES   memory for full entry bundles (identity and gzip) kept in memory files\n"
	"                         and sent with sendfile, at least 33554432 (default 134217728)\n"
	"\n"
	"TLS (config keys: tls_cert, tls_key, tls_client_ca; default: plain HTTP):\n"
	"  --tls-cert FILE        serve HTTPS with this PEM certificate chain (the server's first), as\n"
	"                         SPIFFE's https_web bundle endpoint profile expects\n"
	"  --tls-key FILE         its PEM private key (mode 0600)\n"
	"  --tls-client-ca FILE   ask clients for a certificate from this PEM CA (mTLS, optional for\n"
	"                         clients); one that verifies proves the operator role\n";

void config_http_defaults(struct config_http *h)
{
	*h = (struct config_http){
		.loops = 2,
		.workers = 32,
		.max_connections = 16384,
		.max_per_address = 256,
		.request_timeout_ms = 10000,
		.idle_timeout_ms = 60000,
		.write_timeout_ms = 30000,
		.max_body = 1u << 20,
		.watch_max = 16384,
		.watch_max_per_client = 64,
		.watch_keepalive_ms = 15000,
		.bundle_cache = CONFIG_HTTP_DEFAULT_BUNDLE_CACHE,
	};
}

static void store(struct config_http *h, int which, unsigned long long v)
{
	switch (which) {
	case F_LOOPS: h->loops = (unsigned)v; break;
	case F_WORKERS: h->workers = (unsigned)v; break;
	case F_MAX_CONNECTIONS: h->max_connections = (unsigned)v; break;
	case F_MAX_PER_ADDRESS: h->max_per_address = (unsigned)v; break;
	case F_REQUEST_TIMEOUT: h->request_timeout_ms = (unsigned)v; break;
	case F_IDLE_TIMEOUT: h->idle_timeout_ms = (unsigned)v; break;
	case F_WRITE_TIMEOUT: h->write_timeout_ms = (unsigned)v; break;
	case F_MAX_BODY: h->max_body = (size_t)v; break;
	case F_WATCH_MAX: h->watch_max = (unsigned)v; break;
	case F_WATCH_PER_CLIENT: h->watch_max_per_client = (unsigned)v; break;
	case F_WATCH_KEEPALIVE: h->watch_keepalive_ms = (unsigned)v; break;
	case F_BUNDLE_CACHE: h->bundle_cache = (size_t)v; break;
	}
}

/* A count from 1 to its maximum, or a timeout from 0.001 to MAX_TIMEOUT_S seconds (as ms). */
static int check(unsigned long long *out, int which, double v, const char *how)
{
	if (settings[which].seconds) {
		if (!(v >= 0.001 && v <= MAX_TIMEOUT_S))
			return tl_error_set(TL_E_INPUT, "%s %s must be a number of seconds from 0.001 to %d", how,
				settings[which].key, MAX_TIMEOUT_S);
		*out = (unsigned long long)llround(v * 1000);
		return 0;
	}
	if (!(v >= 1 && v <= (double)settings[which].max) || v != floor(v))
		return tl_error_set(TL_E_INPUT, "%s %s must be an integer from 1 to %llu", how, settings[which].key,
			settings[which].max);
	*out = (unsigned long long)v;
	return 0;
}

/* Stores a TLS file name; TL_E_INPUT if it is empty or too long. */
static int store_path(struct config_http *h, int which, const char *path, const char *how)
{
	char *dst = (char *)h + tls_settings[which - F_COUNT].offset;
	size_t n = strlen(path);

	if (n == 0 || n >= CONFIG_HTTP_MAX_PATH)
		return tl_error_set(TL_E_INPUT, "%s %s must be a file name of 1 to %d bytes", how,
			tls_settings[which - F_COUNT].key, CONFIG_HTTP_MAX_PATH - 1);
	memcpy(dst, path, n + 1);
	return 0;
}

int config_http_key(struct config_http *h, const char *key, json_t *value)
{
	unsigned long long v;
	int err;

	for (int i = F_COUNT; i < F_ALL; i++) {
		if (strcmp(key, tls_settings[i - F_COUNT].key) != 0)
			continue;
		if (!json_is_string(value))
			return tl_error_set(TL_E_INPUT, "config: \"%s\" must be a string", key);
		return store_path(h, i, json_string_value(value), "config:");
	}

	/* The idle timeout's name in earlier versions, so their config files still load. */
	if (strcmp(key, "connection_timeout") == 0)
		key = "idle_timeout";
	for (int i = 0; i < F_COUNT; i++) {
		if (strcmp(key, settings[i].key) != 0)
			continue;
		if (settings[i].seconds ? !json_is_number(value) : !json_is_integer(value))
			return tl_error_set(TL_E_INPUT, "config: \"%s\" must be a number", key);
		if ((err = check(&v, i, json_number_value(value), "config:")) != 0)
			return err;
		store(h, i, v);
		return 0;
	}
	return 1;
}

/* Decimal digits with at most one '.', and at most 3 digits after it for seconds. */
static int parse_number(double *out, const char *arg, int seconds)
{
	const char *dot = strchr(arg, '.');
	size_t n = strlen(arg);
	double v = 0, scale = 1;

	if (n == 0 || n > 15 || (dot != NULL && (!seconds || dot == arg || n - (size_t)(dot - arg) - 1 > 3 ||
						      dot[1] == '\0')))
		return -1;
	for (const char *p = arg; *p; p++) {
		if (p == dot)
			continue;
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (dot != NULL && p > dot)
			scale *= 10;
	}
	*out = v / scale;
	return 0;
}

int config_http_flag(struct config_http *h, int val, const char *arg)
{
	int which = val - CONFIG_HTTP_FLAG;
	unsigned long long v;
	double d;
	int err;

	if (which >= F_COUNT && which < F_ALL)
		return store_path(h, which, arg, "flag");
	if (which < 0 || which >= F_COUNT)
		return tl_error_set(TL_E_INTERNAL, "no such HTTP flag");
	if (parse_number(&d, arg, settings[which].seconds) != 0)
		return tl_error_set(TL_E_INPUT, "--%s: \"%.32s\" is not a %s", settings[which].flag, arg,
			settings[which].seconds ? "number of seconds" : "decimal integer");
	if ((err = check(&v, which, d, "flag")) != 0)
		return err;
	store(h, which, v);
	return 0;
}

int config_http_finish(const struct config_http *h)
{
	if (h->max_body < 1024)
		return tl_error_set(TL_E_INPUT, "max_body must be at least 1024 bytes");
	if (h->bundle_cache < CONFIG_HTTP_MIN_BUNDLE_CACHE)
		return tl_error_set(TL_E_INPUT, "bundle_cache must be at least %zu bytes", CONFIG_HTTP_MIN_BUNDLE_CACHE);
	if ((h->tls_cert[0] != '\0') != (h->tls_key[0] != '\0'))
		return tl_error_set(TL_E_INPUT, "tls_cert and tls_key go together: give both or neither");
	if (h->tls_client_ca[0] != '\0' && h->tls_cert[0] == '\0')
		return tl_error_set(TL_E_INPUT, "tls_client_ca needs tls_cert and tls_key (mTLS is TLS)");
	if (h->max_per_address > h->max_connections)
		return tl_error_set(TL_E_INPUT, "max_per_address (%u) is more than max_connections (%u)",
			h->max_per_address, h->max_connections);
	return 0;
}
