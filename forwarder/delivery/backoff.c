/* backoff: capped exponential backoff with full jitter, Retry-After. */
#include "backoff.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

double backoff_delay(unsigned attempt, double base_s, double cap_s,
		     backoff_rand_fn rnd, void *arg)
{
	double window = base_s;
	double r;

	if (base_s <= 0 || cap_s <= 0)
		return 0;
	if (attempt == 0)
		attempt = 1;
	/* Doubling stops at the cap, so a huge attempt count cannot overflow. */
	for (unsigned i = 1; i < attempt && window < cap_s; i++)
		window *= 2;
	if (window > cap_s)
		window = cap_s;
	r = rnd(arg);
	if (!(r >= 0) || r >= 1)   /* also rejects NaN from a broken source */
		r = 0;
	return r * window;
}

static int parse_delta_seconds(const char *s, double *out_s)
{
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return -EINVAL;
	*out_s = (double)v;
	return 0;
}

/* RFC 9110 5.6.7 IMF-fixdate; month and day names are English whatever the
 * locale, so they are matched here rather than with strptime(%a %b). */
static int parse_http_date(const char *s, time_t now, double *out_s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char wday[4], mon[4], zone[4];
	int day, year, hh, mm, ss, n = 0;
	struct tm tm;
	const char *m;
	time_t t;

	if (sscanf(s, "%3[A-Za-z], %d %3[A-Za-z] %d %d:%d:%d %3[A-Z]%n",
		   wday, &day, mon, &year, &hh, &mm, &ss, zone, &n) != 8 || s[n])
		return -EINVAL;
	if (strcmp(zone, "GMT") || strlen(mon) != 3)
		return -EINVAL;
	m = strstr(months, mon);
	if (!m || (m - months) % 3)
		return -EINVAL;
	if (day < 1 || day > 31 || year < 1970 || year > 9999 || hh > 23 ||
	    hh < 0 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out_s = t > now ? (double)(t - now) : 0;
	return 0;
}

int backoff_parse_retry_after(const char *value, time_t now, double *out_s)
{
	if (!value)
		return -EINVAL;
	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value))
		return parse_delta_seconds(value, out_s);
	return parse_http_date(value, now, out_s);
}

void backoff_rng_seed(struct backoff_rng *r)
{
	r->s = clock_mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	if (!r->s)
		r->s = 0x9e3779b97f4a7c15ull;
}

double backoff_rng_next(void *rng)
{
	struct backoff_rng *r = rng;
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	/* top 53 bits -> [0, 1) */
	return (double)((x * 0x2545f4914f6cdd1dull) >> 11) * (1.0 / 9007199254740992.0);
}
