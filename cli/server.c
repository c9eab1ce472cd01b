#include "server.h"

#include "cli.h"

int cli_server_check(const struct cli_cmd_spec *spec, const struct cli_server *s)
{
	if ((s->client_cert == NULL) != (s->client_key == NULL))
		return cli_opt_usage_error(spec, "--client-cert and --client-key go together");
	return CLI_OK;
}

void cli_server_http_options(bd_http_options *o, const struct cli_server *s)
{
	o->url = s->url;
	o->ca_file = s->cacert;
	o->client_cert = s->client_cert;
	o->client_key = s->client_key;
}
