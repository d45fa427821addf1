/* argv source-file parser fuzzer (forwarder/process/argv_source.h).
 *
 * Input: one byte choosing the tool, then NUL-separated arguments (argv
 * strings cannot hold NUL). Tools: built-in C, C++ and Python rules, and a
 * rules-file "compiler" with its own extensions.
 *
 * Invariants: compiler sources come in strictly increasing argv order,
 * within argv, never an option, "-", "@file" or an empty argument, and have
 * one of the rule's extensions unless a "-x c" language is in force; the
 * walk ends within argc steps; a Python script index is within argv and
 * names a non-empty argument other than "-". */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "process/argv_source.h"
#include "process/classify.h"
#include "fuzz_util.h"

#define FUZZ_MAX_ARGS 256

static struct classify_rules *fuzz_rules;
static const struct classify_rule *fuzz_tools[4];

static void fuzz_init(void)
{
	static const char *const names[] = {"gcc-12", "clang++", "javac", "python3.11"};
	char path[] = "/tmp/jcw-fuzz-rules-XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0 || !(f = fdopen(fd, "w")))
		abort();
	fputs("compiler javac .java .jav\n", f);
	fclose(f);
	if (classify_rules_new(path, &fuzz_rules, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	unlink(path);
	for (size_t i = 0; i < 4; i++) {
		fuzz_tools[i] = classify_match(fuzz_rules, names[i], strlen(names[i]));
		if (!fuzz_tools[i])
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ProtobufCBinaryData argv[FUZZ_MAX_ARGS];
	struct fuzz_in in = {data, size};
	const struct classify_rule *rule;
	struct argv_iter it = ARGV_ITER_INIT;
	size_t n = 0, steps = 0;
	ssize_t idx, last = 0;

	if (!fuzz_rules)
		fuzz_init();
	rule = fuzz_tools[fuzz_u8(&in) & 3];
	argv[n].data = (uint8_t *)"tool";
	argv[n++].len = 4;
	while (n < FUZZ_MAX_ARGS) {
		const uint8_t *tok;

		if (!fuzz_token(&in, '\0', &tok, &argv[n].len))
			break;
		argv[n++].data = (uint8_t *)tok;
	}

	if (rule->type == PROC_PYTHON) {
		idx = argv_python_script(argv, n);
		FUZZ_CHECK(idx == -1 || (idx >= 1 && (size_t)idx < n));
		if (idx > 0)
			FUZZ_CHECK(argv[idx].len > 0 && !(argv[idx].len == 1 && argv[idx].data[0] == '-'));
		return 0;
	}
	while ((idx = argv_compiler_next(argv, n, rule, &it)) >= 0) {
		const ProtobufCBinaryData *a = &argv[idx];

		FUZZ_CHECK(++steps < n);
		FUZZ_CHECK(idx > last && (size_t)idx < n);
		FUZZ_CHECK(a->len > 0 && a->data[0] != '@');
		FUZZ_CHECK(!(a->data[0] == '-' && a->len > 1) && !(a->len == 1 && a->data[0] == '-'));
		if (!it.forced_lang)
			FUZZ_CHECK(classify_has_ext(rule, (const char *)a->data, a->len));
		if (rule->type == PROC_COMPILER)
			FUZZ_CHECK(!it.forced_lang);
		last = idx;
	}
	FUZZ_CHECK(idx == -1 && it.i >= n);
	return 0;
}
