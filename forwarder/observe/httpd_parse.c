#include "httpd_parse.h"

#include <string.h>

bool httpd_head_complete(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return true;
		if (i > 0 && buf[i - 1] == '\r' && buf[i + 1] == '\r' && i + 2 < len &&
		    buf[i + 2] == '\n')
			return true;
	}
	return false;
}

int httpd_parse(char *buf, size_t len, struct httpd_request *out)
{
	char *line = buf, *end = buf + len, *eol, *sp1, *sp2, *q;

	/* NUL bytes would hide the rest of the head from the parser. */
	if (memchr(buf, '\0', len))
		return 400;
	for (eol = line; eol < end && *eol != '\r' && *eol != '\n'; eol++)
		;
	if (eol == end)
		return 400;
	*eol = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp1[1] != '/')
		return 400;
	*sp1 = *sp2 = '\0';
	out->head_only = strcmp(line, "HEAD") == 0;
	if (!out->head_only && strcmp(line, "GET") != 0)
		return 405;
	q = strchr(sp1 + 1, '?');
	if (q)
		*q = '\0';
	out->path = sp1 + 1;
	return 0;
}
