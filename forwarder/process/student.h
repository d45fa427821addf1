/* student: who a process belongs to, from its container's hostname.
 *
 * Student containers are named jcode-{course}-{section}-{id}, and on
 * Kubernetes the hostname is the pod name, which adds what the controller
 * appends: -{replicaset hash}-{pod suffix} for a Deployment
 * (jcode-os-1-202012345-68d58d5b57-bp47r), -{ordinal} for a StatefulSet
 * (jcode-os-1-202012345-0). So the name is read from the left, as the
 * original watcher does: "jcode-", a course of [A-Za-z0-9]+, '-', a section
 * of digits, '-', an id of digits, then the end or '-' and a suffix of
 * hostname characters ([A-Za-z0-9.-]) that is ignored. Reading from the
 * right would take the pod suffix for the id: another student's record.
 *
 * '_' is not part of a course: no hostname can hold it (RFC 1123 labels,
 * Kubernetes DNS-1123 pod names) and the original's pattern refuses it.
 *
 * Workspace directories (/workspace/{name}/hwN) carry the same three parts
 * with nothing after them: student_parse_workspace(). */
#ifndef JCW_STUDENT_H
#define JCW_STUDENT_H

#include <stdbool.h>
#include <stddef.h>

#define STUDENT_HOST_PREFIX "jcode-"
/* The API parses the id as an integer: 18 digits always fit a signed 64-bit
 * column, so a longer id is refused here rather than answered with 422s. */
#define STUDENT_ID_MAX 18
/* A UTS hostname has at most 64 bytes, so class_div is shorter than that. */
#define STUDENT_CLASS_DIV_MAX 63
/* A student's key, "{class_div}/{id}": what limits and budgets count by. */
#define STUDENT_KEY_MAX (STUDENT_CLASS_DIV_MAX + 1 + STUDENT_ID_MAX)

struct student {
	char class_div[STUDENT_CLASS_DIV_MAX + 1];   /* "os-1" */
	char id[STUDENT_ID_MAX + 1];                 /* "202012345" */
	size_t class_div_len;
	size_t id_len;
};

enum student_result {
	STUDENT_OK,
	STUDENT_NOT_JCODE,   /* no "jcode-" prefix: not a student container */
	STUDENT_MALFORMED,   /* the prefix, but not the form above: counted, logged */
};

/* Parses a hostname (need not be NUL-terminated); *out is filled on
 * STUDENT_OK only. */
enum student_result student_parse(const void *host, size_t len, struct student *out);

/* Parses a workspace directory name "{course}-{section}-{id}" (no prefix, no
 * suffix): 0 and *out filled, or -EINVAL. */
int student_parse_workspace(const void *name, size_t len, struct student *out);

/* The same student (class_div and id). */
bool student_equal(const struct student *a, const struct student *b);

/* The hostname rule in words, for log lines. */
#define STUDENT_HOST_RULE "jcode-{course}-{section}-{id}[-suffix], course [A-Za-z0-9]+, " \
			  "section and id digits (id at most 18)"

#endif
