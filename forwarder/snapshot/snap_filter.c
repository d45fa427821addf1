#include "snap_filter.h"

#include <stdbool.h>
#include <string.h>

static bool snap_filter_is(const char *c, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(c, word, len) == 0;
}

/* The first rule (in enum order) one directory component breaks. */
static enum snap_filter_reason snap_filter_dir(const char *c, size_t len)
{
	if (c[0] == '.' && !snap_filter_is(c, len, ".venv"))
		return SNAP_FILTER_HIDDEN;
	if (snap_filter_is(c, len, "venv") || snap_filter_is(c, len, ".venv") ||
	    snap_filter_is(c, len, "virtualenv") || snap_filter_is(c, len, "env") ||
	    snap_filter_is(c, len, "ENV"))
		return SNAP_FILTER_VIRTUALENV;
	if (snap_filter_is(c, len, "site-packages") || snap_filter_is(c, len, "dist-packages"))
		return SNAP_FILTER_PACKAGES;
	if (snap_filter_is(c, len, "lib") || snap_filter_is(c, len, "lib64") ||
	    snap_filter_is(c, len, "libs"))
		return SNAP_FILTER_LIB;
	return SNAP_FILTER_PASS;
}

enum snap_filter_reason snap_filter_check(const char *below_hw, size_t len,
					  const struct file_exts *exts)
{
	enum snap_filter_reason worst = SNAP_FILTER_REASON_COUNT, r;
	const char *base = below_hw, *p = below_hw, *end = below_hw + len, *slash;
	size_t depth = 0;

	while ((slash = memchr(p, '/', (size_t)(end - p)))) {
		if (slash > p) {
			r = snap_filter_dir(p, (size_t)(slash - p));
			if (r != SNAP_FILTER_PASS && r < worst)
				worst = r;
			depth++;
		}
		p = slash + 1;
		base = p;
	}
	if (base == end || !file_exts_match(exts, base, (size_t)(end - base)))
		return SNAP_FILTER_EXTENSION;
	if (base[0] == '.' && SNAP_FILTER_HIDDEN < worst)
		worst = SNAP_FILTER_HIDDEN;
	if (worst != SNAP_FILTER_REASON_COUNT)
		return worst;
	return depth > SNAP_FILTER_MAX_DEPTH ? SNAP_FILTER_TOO_DEEP : SNAP_FILTER_PASS;
}

const char *snap_filter_reason_name(enum snap_filter_reason r)
{
	static const char *const names[SNAP_FILTER_REASON_COUNT] = {
		[SNAP_FILTER_PASS] = "none",
		[SNAP_FILTER_EXTENSION] = "extension",
		[SNAP_FILTER_HIDDEN] = "hidden",
		[SNAP_FILTER_VIRTUALENV] = "virtualenv",
		[SNAP_FILTER_PACKAGES] = "site_packages",
		[SNAP_FILTER_LIB] = "lib_dir",
		[SNAP_FILTER_TOO_DEEP] = "too_deep",
	};

	return (unsigned)r < SNAP_FILTER_REASON_COUNT ? names[r] : "unknown";
}
