/* dkim_testmsg: test helpers for the DKIM/ARC verifier tests: make the dkimpy
 * vectors (dkim_vectors.py) in a temp dir, read a message file into header fields
 * and body, and serve the vectors' key records to the verifier. */
#ifndef POSTWARDEN_TEST_DKIM_TESTMSG_H
#define POSTWARDEN_TEST_DKIM_TESTMSG_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "buf.h"

struct testmsg {
	size_t n;
	char *name[256];
	char *value[256]; /* after the colon: leading space and CRLF folds kept */
	char *body;
	size_t body_len;
	char *raw;
	size_t raw_len;
};

/* testmsg_vectors() - run dkim_vectors.py once; the dir with zone, cases, *.eml, or
 * NULL (after printing a SKIP line) when /usr/bin/python3 with dkimpy, pynacl and
 * authres is missing. @zone (512 bytes) receives the zone file's path. */
const char *testmsg_vectors(char *zone);

/* testmsg_auth() - a verifier fed @m (body in 7-byte chunks, CRLFs split), headers done. */
struct auth *testmsg_auth(const struct testmsg *m, bool sealing);

/* testmsg_load() - read @dir/@name.eml (may be empty, have no header fields, or end
 * without the empty line: no body); aborts the test on error. */
void testmsg_load(struct testmsg *m, const char *dir, const char *name);
void testmsg_free(struct testmsg *m);

/* testmsg_case() - the dkimpy results line of @name in @dir/cases ("" if none): a
 * static buffer holding "<dkim results> <arc cv>". */
const char *testmsg_case(const char *dir, const char *name);

/* testmsg_lookup() - a verify_keys lookup over @arg = a zone file path (0,
 * VERIFY_KEY_NONE); names starting with "tempfail" give -EAGAIN. */
int testmsg_lookup(void *arg, const char *name, struct buf *txt, EVP_PKEY **parsed);

#endif
