/* student: who a process belongs to, from its container's hostname.
 *
 * Student containers are named jcode-{course}-{section}-{id}; the course may
 * itself contain '-', so the name is parsed from the right. Everything else
 * (other containers, hand-made hostnames, hostile ones) is not a student. */
#ifndef JCW_STUDENT_H
#define JCW_STUDENT_H

#include <stddef.h>

#define STUDENT_HOST_PREFIX "jcode-"
/* The API parses the id as an integer: 18 digits always fit a signed 64-bit
 * column, so a longer id is refused here rather than answered with 422s. */
#define STUDENT_ID_MAX 18
/* A UTS hostname has at most 64 bytes, so class_div is shorter than that. */
#define STUDENT_CLASS_DIV_MAX 63

struct student {
	char class_div[STUDENT_CLASS_DIV_MAX + 1];   /* "os-1" */
	char id[STUDENT_ID_MAX + 1];                 /* "202012345" */
	size_t class_div_len;
	size_t id_len;
};

/* 0 and *out filled, or -EINVAL when host is not jcode-{course}-{section}-{id}
 * with course [A-Za-z0-9_] words joined by single '-', section [A-Za-z0-9_]+
 * and id 1..STUDENT_ID_MAX digits. host need not be NUL-terminated. */
int student_parse(const void *host, size_t len, struct student *out);

#endif
