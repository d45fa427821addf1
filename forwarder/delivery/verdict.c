#include "verdict.h"

enum verdict verdict_of(bool answered, long status)
{
	if (!answered)
		return VERDICT_RETRY;
	if ((status >= 200 && status < 300) || status == 409)
		return VERDICT_OK;
	if (status >= 400 && status < 500 && status != 408 && status != 429)
		return VERDICT_ERROR;
	return VERDICT_RETRY;
}

bool verdict_reads_retry_after(long status)
{
	return status == 429 || status == 503;
}
