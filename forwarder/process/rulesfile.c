#include "rulesfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most fields rulesfile_read splits a line into. */
#define RULESFILE_TOK_MAX 64

/* Splits line (modified in place) into tok[]: its count, or -1 past max. */
static long split(char *line, char **tok, size_t max)
{
	char *save = NULL, *t;
	size_t i, n = 0;

	for (i = 0; line[i]; i++)
		if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
			line[i] = '\0';
			break;
		}
	for (t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		tok[n++] = t;
	}
	return (long)n;
}

int rulesfile_read(const char *file, size_t max_tok, rulesfile_line_fn fn, void *ctx,
		   char *err, size_t errlen)
{
	char *tok[RULESFILE_TOK_MAX], *line = NULL;
	const char *what = NULL;
	unsigned lineno = 0;
	size_t cap = 0;
	ssize_t got;
	long n;
	int ret = 0;
	FILE *f;

	if (max_tok > RULESFILE_TOK_MAX)
		max_tok = RULESFILE_TOK_MAX;
	f = fopen(file, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(-ret));
		return ret;
	}
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (memchr(line, '\0', (size_t)got)) {
			what = "NUL byte in line";
			ret = -EINVAL;
			break;
		}
		n = split(line, tok, max_tok);
		if (n < 0) {
			what = "too many fields";
			ret = -EINVAL;
			break;
		}
		if (n && (ret = fn(ctx, tok, (size_t)n, &what)))
			break;
	}
	if (ret)
		snprintf(err, errlen, "%s:%u: %s", file, lineno, what ? what : strerror(-ret));
	else if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", file);
	}
	free(line);
	fclose(f);
	return ret;
}
