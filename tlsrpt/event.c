/* event: the names RFC 8460 gives the numbers in event.h (section 4.3 result types,
 * section 4.4 policy types), as the report writes them. Pure; thread safe.
 */
#include "event.h"

const char *tlsrpt_result_name(int code)
{
	switch (code) {
	case TLSRPT_STARTTLS_NOT_SUPPORTED:
		return "starttls-not-supported";
	case TLSRPT_CERTIFICATE_HOST_MISMATCH:
		return "certificate-host-mismatch";
	case TLSRPT_CERTIFICATE_NOT_TRUSTED:
		return "certificate-not-trusted";
	case TLSRPT_CERTIFICATE_EXPIRED:
		return "certificate-expired";
	case TLSRPT_VALIDATION_FAILURE:
		return "validation-failure";
	case TLSRPT_STS_POLICY_FETCH_ERROR:
		return "sts-policy-fetch-error";
	case TLSRPT_STS_POLICY_INVALID:
		return "sts-policy-invalid";
	case TLSRPT_STS_WEBPKI_INVALID:
		return "sts-webpki-invalid";
	case TLSRPT_TLSA_INVALID:
		return "tlsa-invalid";
	case TLSRPT_DNSSEC_INVALID:
		return "dnssec-invalid";
	case TLSRPT_DANE_REQUIRED:
		return "dane-required";
	}
	return NULL;
}

const char *tlsrpt_policy_type_name(int type)
{
	switch (type) {
	case TLSRPT_POLICY_TLSA:
		return "tlsa";
	case TLSRPT_POLICY_STS:
		return "sts";
	case TLSRPT_POLICY_NONE:
		return "no-policy-found";
	}
	return NULL;
}
