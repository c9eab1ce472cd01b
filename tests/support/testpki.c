#include "testpki.h"

#include <check.h>
#include <stdio.h>

#include "testutil.h"

/* One key and a certificate signed by a CA: name, subject, extensions. */
#define LEAF(ca, name, cn, ext)                                                                        \
	"openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" cn " -keyout " name \
	".key -out " name ".csr 2>/dev/null && printf '" ext "' > " name ".ext && "                     \
	"openssl x509 -req -in " name ".csr -CA " ca ".pem -CAkey " ca ".key -CAcreateserial -days 2 "   \
	"-extfile " name ".ext -out " name ".pem 2>/dev/null && "
#define CA(name, cn)                                                                              \
	"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" cn \
	" -keyout " name ".key -out " name ".pem 2>/dev/null && "

char *tp_make_pki(void)
{
	char *dir = tu_mkdtemp();

	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(tu_system("cd '%s' && " CA("ca", "test-ca") CA("other-ca", "other-ca")
			LEAF("ca", "server", "localhost",
				"subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n")
			LEAF("ca", "client", "operator", "extendedKeyUsage=clientAuth\\n")
			LEAF("other-ca", "other-client", "operator", "extendedKeyUsage=clientAuth\\n")
			"openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key 2>/dev/null",
			     dir),
		0);
	return dir;
}

const char *tp_path(const char *dir, const char *name)
{
	static _Thread_local char paths[8][512];
	static _Thread_local unsigned turn;
	char *p = paths[turn++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}
