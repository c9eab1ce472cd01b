/*
 * PKCS#11 modules and tokens, for key_pkcs11.c: loading a module with dlopen (so nothing
 * links a PKCS#11 library), finding the one token a URI names, and opening a logged-in
 * session on it. Internal to translog.
 */
#ifndef TRANSLOG_PKCS11_MODULE_H
#define TRANSLOG_PKCS11_MODULE_H

#include <p11-kit/pkcs11.h>

#include "translog/pkcs11.h"

/* p11-kit 0.24's header has these PKCS#11 3.0 names; older headers do not (values from
 * PKCS#11 v3.0, section 6.3 of the Current Mechanisms Specification). */
#ifndef CKK_EC_EDWARDS
#define CKK_EC_EDWARDS 0x40UL
#endif
#ifndef CKM_EC_EDWARDS_KEY_PAIR_GEN
#define CKM_EC_EDWARDS_KEY_PAIR_GEN 0x1055UL
#endif
#ifndef CKM_EDDSA
#define CKM_EDDSA 0x1057UL
#endif

/* Under LeakSanitizer, what a module allocates inside a call that makes or uses a key is the
 * module's: SoftHSM2 2.6.1 (Debian 12) leaks two small OpenSSL objects in every EdDSA
 * C_SignInit and C_GenerateKeyPair (its OSSL::byteString2oid never frees what it decodes;
 * fixed upstream in SoftHSMv2 PRs 858 and 863), which this process can neither free nor
 * avoid. Only allocations made on this thread between BEGIN and END are exempt; everything
 * translog allocates stays checked. Without LeakSanitizer these are no-ops. */
#if defined(__SANITIZE_ADDRESS__)
#define TL_P11_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_P11_LSAN 1
#endif
#endif
#ifdef TL_P11_LSAN
#include <sanitizer/lsan_interface.h>
#define TL_P11_MODULE_ALLOCS_BEGIN() __lsan_disable()
#define TL_P11_MODULE_ALLOCS_END() __lsan_enable()
#else
#define TL_P11_MODULE_ALLOCS_BEGIN() ((void)0)
#define TL_P11_MODULE_ALLOCS_END() ((void)0)
#endif

struct tl_p11_module;

/* An open session on the token a URI names. */
struct tl_p11_token {
	struct tl_p11_module *module;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	char label[32 + 1]; /* the token's label, for messages */
};

/* Loads the URI's module (or the default one), finds the one token the URI names, checks
 * that it has CKM_EDDSA (and CKM_EC_EDWARDS_KEY_PAIR_GEN when `keygen`), opens a session (R/W
 * when `keygen`) and logs in with `pin` when it is not empty or the token needs a login.
 * On failure nothing is left open. */
int tl_p11_token_open(struct tl_p11_token *t, const struct tl_pkcs11_uri *u, const char *pin, int keygen) TL_MUST_USE;

/* Closes the session and releases the module (finalised when its last user goes). */
void tl_p11_token_close(struct tl_p11_token *t);

/* Sets the error for a failed call: "pkcs11: <what>: CKR_... (0x..)", with the category
 * that fits rv (PIN errors are TL_E_UNAUTHORIZED). Returns the code. */
int tl_p11_fail(CK_RV rv, const char *what);

#endif
