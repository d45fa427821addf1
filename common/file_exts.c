#include "file_exts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int file_exts_parse(const char *list, struct file_exts *out, char *err, size_t errlen)
{
	const char *p = list, *end;
	size_t len;

	memset(out, 0, sizeof(*out));
	while (*p) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len > FILE_EXT_LEN_MAX) {
			snprintf(err, errlen, "extension '%.*s' is not 1 to %d bytes", (int)len, p,
				 FILE_EXT_LEN_MAX);
			return -EINVAL;
		}
		if (out->n == FILE_EXTS_MAX) {
			snprintf(err, errlen, "more than %d extensions", FILE_EXTS_MAX);
			return -EINVAL;
		}
		memcpy(out->ext[out->n], p, len);
		out->len[out->n++] = (uint8_t)len;
		if (!end)
			break;
		p = end + 1;
		if (!*p) {
			snprintf(err, errlen, "empty extension after the last ','");
			return -EINVAL;
		}
	}
	return 0;
}

bool file_exts_match(const struct file_exts *x, const char *name, size_t len)
{
	size_t i;

	if (x->n == 0)
		return true;
	for (i = 0; i < x->n; i++)
		if (len > x->len[i] && memcmp(name + len - x->len[i], x->ext[i], x->len[i]) == 0)
			return true;
	return false;
}
