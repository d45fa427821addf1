#include "student.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool student_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

int student_parse(const void *host, size_t len, struct student *out)
{
	const unsigned char *s = host;
	const size_t plen = sizeof(STUDENT_HOST_PREFIX) - 1;
	size_t id_start, sec_start, i;

	/* A strict character set, checked before anything is copied: the class
	 * and id become URL segments and directory names downstream, so '/',
	 * '%', '.', NUL and non-ASCII bytes never get past this point. */
	if (len <= plen || memcmp(s, STUDENT_HOST_PREFIX, plen) != 0)
		return -EINVAL;
	s += plen;
	len -= plen;

	id_start = len;
	while (id_start > 0 && s[id_start - 1] >= '0' && s[id_start - 1] <= '9')
		id_start--;
	if (id_start == len || len - id_start > STUDENT_ID_MAX ||
	    id_start < 2 || s[id_start - 1] != '-')
		return -EINVAL;

	sec_start = id_start - 1;
	while (sec_start > 0 && student_word_char(s[sec_start - 1]))
		sec_start--;
	if (sec_start == id_start - 1 || sec_start < 2 || s[sec_start - 1] != '-')
		return -EINVAL;

	/* Course: words joined by single dashes, no dash at either end. */
	for (i = 0; i < sec_start - 1; i++) {
		if (student_word_char(s[i]))
			continue;
		if (s[i] != '-' || i == 0 || s[i - 1] == '-' || i == sec_start - 2)
			return -EINVAL;
	}
	if (id_start - 1 > STUDENT_CLASS_DIV_MAX)
		return -EINVAL;

	out->class_div_len = id_start - 1;
	memcpy(out->class_div, s, out->class_div_len);
	out->class_div[out->class_div_len] = '\0';
	out->id_len = len - id_start;
	memcpy(out->id, s + id_start, out->id_len);
	out->id[out->id_len] = '\0';
	return 0;
}
