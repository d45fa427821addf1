#include "student.h"

#include <errno.h>
#include <string.h>

static bool student_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool student_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the run at s[0..len) of characters accepted by ok(). */
static size_t student_span(const unsigned char *s, size_t len, bool (*ok)(unsigned char))
{
	size_t i = 0;

	while (i < len && ok(s[i]))
		i++;
	return i;
}

/* Reads "{course}-{section}-{id}" from the start of s and returns how many
 * bytes it took, or 0 when s does not start with one. A strict character
 * set, checked before anything is copied: class and id become URL segments
 * and directory names downstream, so '/', '%', '.', NUL and non-ASCII bytes
 * never get past this point. */
static size_t student_take(const unsigned char *s, size_t len, struct student *out)
{
	size_t course, section, id, n;

	course = student_span(s, len, student_alnum);
	if (course == 0 || course == len || s[course] != '-')
		return 0;
	n = course + 1;
	section = student_span(s + n, len - n, student_digit);
	if (section == 0 || n + section == len || s[n + section] != '-')
		return 0;
	n += section + 1;
	id = student_span(s + n, len - n, student_digit);
	if (id == 0 || id > STUDENT_ID_MAX || course + 1 + section > STUDENT_CLASS_DIV_MAX)
		return 0;

	out->class_div_len = course + 1 + section;
	memcpy(out->class_div, s, out->class_div_len);
	out->class_div[out->class_div_len] = '\0';
	out->id_len = id;
	memcpy(out->id, s + n, id);
	out->id[id] = '\0';
	return n + id;
}

static bool student_suffix_char(unsigned char c)
{
	return student_alnum(c) || c == '-' || c == '.';
}

enum student_result student_parse(const void *host, size_t len, struct student *out)
{
	const size_t plen = sizeof(STUDENT_HOST_PREFIX) - 1;
	const unsigned char *s = host;
	struct student st;
	size_t n;

	if (len < plen || memcmp(s, STUDENT_HOST_PREFIX, plen) != 0)
		return STUDENT_NOT_JCODE;
	s += plen;
	len -= plen;
	n = student_take(s, len, &st);
	if (n == 0)
		return STUDENT_MALFORMED;
	/* The pod's suffix: ignored, but only hostname characters. */
	if (n < len && (s[n] != '-' || student_span(s + n, len - n, student_suffix_char) != len - n))
		return STUDENT_MALFORMED;
	*out = st;
	return STUDENT_OK;
}

int student_parse_workspace(const void *name, size_t len, struct student *out)
{
	struct student st;
	size_t n = student_take(name, len, &st);

	if (n == 0 || n != len)
		return -EINVAL;
	*out = st;
	return 0;
}

bool student_equal(const struct student *a, const struct student *b)
{
	return a->class_div_len == b->class_div_len && a->id_len == b->id_len &&
	       memcmp(a->class_div, b->class_div, a->class_div_len) == 0 &&
	       memcmp(a->id, b->id, a->id_len) == 0;
}
