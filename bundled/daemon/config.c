#include "config.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logging.h"
#include "translog/bytes.h"

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
	cfg->listen_port = 8440;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "data");
	snprintf(cfg->log_name, sizeof(cfg->log_name), "bundled.local/log");
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	config_http_defaults(&cfg->http);
	config_mirror_defaults(&cfg->mirror);
	config_witness_defaults(&cfg->witness);
	cfg->write_rate = 100;
	cfg->write_burst = 200;
}

int config_set_rate(double *out, const char *text, const char *name)
{
	uint64_t whole, frac = 0;
	const char *dot = strchr(text, '.');
	size_t int_len = dot ? (size_t)(dot - text) : strlen(text);
	size_t frac_len = dot ? strlen(dot + 1) : 0;

	/* Decimal digits only ("1e3", "inf" and signs are refused), at most three decimals. */
	if (tl_parse_u64(&whole, text, int_len) != 0 || whole > 1000000 || (dot != NULL && (frac_len == 0 ||
	    frac_len > 3 || strspn(dot + 1, "0123456789") != frac_len)))
		return tl_error_set(TL_E_INPUT, "%s must be a decimal number from 0 to 1000000", name);
	for (size_t i = 0; i < frac_len; i++)
		frac = frac * 10 + (uint64_t)(dot[1 + i] - '0');
	*out = (double)whole + (double)frac / (frac_len == 3 ? 1000.0 : frac_len == 2 ? 100.0 : 10.0);
	return 0;
}

static int copy_string(char *dst, size_t cap, json_t *value, const char *key)
{
	const char *s = json_string_value(value);

	if (s == NULL)
		return tl_error_set(TL_E_INPUT, "config: \"%s\" must be a string", key);
	if (strlen(s) >= cap)
		return tl_error_set(TL_E_INPUT, "config: \"%s\" is longer than %zu bytes", key, cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int config_load_file(struct config *cfg, const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	const char *key;
	json_t *value;
	int err = 0;

	if (root == NULL)
		return tl_error_set(TL_E_INPUT, "config %s: line %d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(root)) {
		err = tl_error_set(TL_E_INPUT, "config %s: must be a JSON object", path);
		goto out;
	}
	json_object_foreach(root, key, value) {
		if (strcmp(key, "listen") == 0) {
			char addr[CONFIG_MAX_STRING];

			if ((err = copy_string(addr, sizeof(addr), value, key)) == 0)
				err = config_set_listen(cfg, addr);
		} else if (strcmp(key, "data_dir") == 0) {
			err = copy_string(cfg->data_dir, sizeof(cfg->data_dir), value, key);
		} else if (strcmp(key, "log_key") == 0) {
			err = copy_string(cfg->log_key, sizeof(cfg->log_key), value, key);
		} else if (strcmp(key, "pkcs11_pin_file") == 0) {
			err = copy_string(cfg->pkcs11_pin_file, sizeof(cfg->pkcs11_pin_file), value, key);
		} else if (strcmp(key, "log_name") == 0) {
			err = copy_string(cfg->log_name, sizeof(cfg->log_name), value, key);
		} else if (strcmp(key, "ipfs_api") == 0) {
			err = copy_string(cfg->ipfs_api, sizeof(cfg->ipfs_api), value, key);
		} else if (strcmp(key, "ipfs_api_auth_file") == 0) {
			err = copy_string(cfg->ipfs_api_auth_file, sizeof(cfg->ipfs_api_auth_file), value, key);
		} else if (strcmp(key, "log_level") == 0) {
			err = copy_string(cfg->log_level, sizeof(cfg->log_level), value, key);
		} else if (strcmp(key, "write_rate") == 0 || strcmp(key, "write_burst") == 0) {
			double *dst = key[6] == 'r' ? &cfg->write_rate : &cfg->write_burst;

			if (!json_is_number(value) || json_number_value(value) < 0 || json_number_value(value) > 1e6)
				err = tl_error_set(TL_E_INPUT, "config: \"%s\" must be a number from 0 to 1000000", key);
			else
				*dst = json_number_value(value);
		} else if ((err = config_mirror_key(&cfg->mirror, key, value)) != 1) {
			/* a mirror's key */
		} else if ((err = config_http_key(&cfg->http, key, value)) == 1 &&
			   (err = config_witness_key(&cfg->witness, key, value)) == 1) {
			err = tl_error_set(TL_E_INPUT, "config %s: unknown key \"%s\"", path, key);
		}
		if (err)
			goto out;
	}
out:
	if (err && strncmp(tl_error_message(), "config ", 7) != 0)
		tl_error_wrap(err, "config %s", path);
	json_decref(root);
	return err;
}

int config_set_listen(struct config *cfg, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	const char *host = addr;
	size_t host_len;
	uint64_t port;

	if (colon == NULL)
		return tl_error_set(TL_E_INPUT, "listen address \"%s\" is not host:port", addr);
	host_len = (size_t)(colon - addr);
	if (host_len >= 2 && addr[0] == '[' && addr[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(cfg->listen_host) ||
	    tl_parse_u64(&port, colon + 1, strlen(colon + 1)) != 0 || port > 65535)
		return tl_error_set(TL_E_INPUT, "listen address \"%s\" is not host:port", addr);
	memcpy(cfg->listen_host, host, host_len);
	cfg->listen_host[host_len] = '\0';
	cfg->listen_port = (unsigned)port;
	return 0;
}

int config_finish(struct config *cfg)
{
	int level = log_level_parse(cfg->log_level);
	int err;

	if (level < 0)
		return tl_error_set(TL_E_INPUT, "log_level \"%s\" is not debug, info, warn or error", cfg->log_level);
	log_set_level((enum log_level)level);
	if (cfg->log_key[0] == '\0' &&
	    snprintf(cfg->log_key, sizeof(cfg->log_key), "%s/log.key", cfg->data_dir) >= (int)sizeof(cfg->log_key))
		return tl_error_set(TL_E_INPUT, "data_dir is too long");
	if ((err = config_mirror_finish(&cfg->mirror)) != 0 || (err = config_http_finish(&cfg->http)) != 0)
		return err;
	return config_witness_finish(&cfg->witness);
}
