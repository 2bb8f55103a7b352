/* dkim_dkimpy: sign a message with milter-dkim's core (RSA-2048 and Ed25519, two
 * selectors, body fed in odd chunks, folded and 8-bit headers), write it the way
 * Postfix would deliver it, and have dkimpy verify both signatures against the
 * generated TXT records. Exits 77 when /usr/bin/python3 with dkimpy is missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "sign.h"

static const char *const headers[][2] = {
	{ "Received", "from client (localhost [127.0.0.1])\n\tby mx.example.org" },
	{ "From", "\"Sm\xc3\xb6rg\xc3\xa5s, Ann\" <ann@Example.ORG>" },
	{ "To", "bob@example.net,\n  carol@example.net" },
	{ "Subject", "a folded\n  subject line  with   spaces" },
	{ "Date", "Tue, 24 Nov 2026 12:00:00 +0000" },
	{ "Message-ID", "<1@example.org>" },
	{ "MIME-Version", "1.0" },
	{ "Content-Type", "text/plain; charset=utf-8" },
	{ "Content-Transfer-Encoding", "8bit" },
	{ "X-Extra", "not signed" },
};

static const char body[] = "Hello  Bob,\r\n\r\ntrailing spaces   \r\n\t indented\r\n8-bit: "
                           "gr\xc3\xbc\xc3\x9f\x65\r\n\r\n\r\n";

static void put_crlf(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputc('\r', f);
		fputc(*s, f);
	}
}

int main(void)
{
	if (system("/usr/bin/python3 -c 'import dkim' 2>/dev/null") != 0) {
		printf("SKIP: /usr/bin/python3 with dkimpy (python3-dkim) not available\n");
		return 77;
	}
	const char *src = getenv("POSTWARDEN_SOURCE");
	char dir[] = "/tmp/dkim_dkimpy.XXXXXX";
	if (!src || !mkdtemp(dir)) {
		fprintf(stderr, "need POSTWARDEN_SOURCE and a temp dir\n");
		return 1;
	}
	EVP_PKEY *keys[2] = { EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
		              EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") };
	const char *sels[2] = { "2026b", "2026e" };
	struct sign *s = sign_new();
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		sign_header(s, headers[i][0], headers[i][1]);
	for (size_t at = 0, n = 3; at < sizeof(body) - 1; at += n, n = n * 2 + 1)
		sign_body(s, body + at, at + n > sizeof(body) - 1 ? sizeof(body) - 1 - at : n);
	struct buf reason;
	buf_init(&reason);
	char *domain = NULL;
	if (sign_from_domain(s, &domain, &reason) != 0) {
		fprintf(stderr, "not signable: %s\n", buf_cstr(&reason));
		return 1;
	}
	char msgpath[64], zonepath[64];
	snprintf(msgpath, sizeof(msgpath), "%s/msg.eml", dir);
	snprintf(zonepath, sizeof(zonepath), "%s/zone", dir);
	FILE *msg = fopen(msgpath, "wb"), *zone = fopen(zonepath, "wb");
	time_t now = time(NULL);
	for (int k = 1; k >= 0; k--) {
		struct sign_params p = { domain, sels[k], keys[k], now, now + 7 * 86400 };
		char *value = NULL;
		if (sign_make(s, &p, &value) != 0) {
			fprintf(stderr, "sign_make failed\n");
			return 1;
		}
		/* smfi_insheader(ctx, 0, ...): the last inserted ends up on top */
		fputs("DKIM-Signature: ", msg);
		put_crlf(msg, value);
		fputs("\r\n", msg);
		printf("DKIM-Signature: %s\n", value);
		free(value);
		struct buf rec;
		buf_init(&rec);
		keys_dns_record(keys[k], &rec);
		fprintf(zone, "%s._domainkey.%s. %s\n", sels[k], domain, buf_cstr(&rec));
		buf_fini(&rec);
	}
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		fprintf(msg, "%s: ", headers[i][0]);
		put_crlf(msg, headers[i][1]);
		fputs("\r\n", msg);
	}
	fputs("\r\n", msg);
	fwrite(body, 1, sizeof(body) - 1, msg);
	fclose(msg);
	fclose(zone);
	char *cmd = NULL;
	if (asprintf(&cmd, "/usr/bin/python3 '%s/tests/unit/dkim_dkimpy_verify.py' '%s' '%s'", src,
	             msgpath, zonepath) < 0)
		return 1;
	int st = system(cmd);
	int rc = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
	free(cmd);
	if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
	free(domain);
	buf_fini(&reason);
	sign_free(s);
	EVP_PKEY_free(keys[0]);
	EVP_PKEY_free(keys[1]);
	return rc;
}
