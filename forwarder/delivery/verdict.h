/* verdict: what one HTTP attempt means for its event. Pure: no I/O.
 *
 * As fluent-bit's out_http decides: an answer in 2xx, or 409 (the API has
 * this event already), is delivered; any other 4xx except 408 and 429 is
 * the API refusing this event for good (it would answer the same again);
 * everything else - 5xx, 408, 429, no answer at all, and what we do not
 * expect (1xx, 3xx: no redirect is followed) - may succeed later. */
#ifndef JCW_VERDICT_H
#define JCW_VERDICT_H

#include <stdbool.h>

enum verdict {
	VERDICT_OK,      /* delivered: forget it */
	VERDICT_RETRY,   /* keep it, try again later */
	VERDICT_ERROR,   /* rejected: keep it aside (dead letter), never again */
};

/* answered: an HTTP status was received (status is then that status). */
enum verdict verdict_of(bool answered, long status);

/* The answer carries a Retry-After worth reading (429, 503). */
bool verdict_reads_retry_after(long status);

#endif
