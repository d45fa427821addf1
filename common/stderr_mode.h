/* stderr_mode: CAPTURE_STDERR, what of the standard error of student processes
 * is kept (docs/design.md "Standard error"; docs/api.md says what is
 * captured and what never is).
 *
 * One setting for both daemons: the collector loads the write hook unless
 * it is off; the forwarder attaches the text to build logs, and to run
 * logs only under "all". */
#ifndef JCW_STDERR_MODE_H
#define JCW_STDERR_MODE_H

enum stderr_mode {
	STDERR_OFF,      /* nothing: the kernel copies nothing */
	STDERR_BUILDS,   /* builds' only: a run's text is dropped by the forwarder */
	STDERR_ALL,      /* builds' diagnostics and runs' errors */
	STDERR_MODE_INVALID,
};

/* The most of a process's last bytes the kernel keeps (records.h's
 * JCW_STDERR_TAIL_CAP, checked equal by the collector): the largest
 * STDERR_TAIL_BYTES. */
#define STDERR_TAIL_MAX 4096

#define CAPTURE_STDERR_DEFAULT "all"
#define CAPTURE_STDERR_VALUES "all, builds or off"

/* "off", "builds", "all"; STDERR_MODE_INVALID otherwise. */
static inline enum stderr_mode stderr_mode_parse(const char *s)
{
	static const char *const names[] = {"off", "builds", "all"};
	unsigned i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; names[i][j] && s[j] == names[i][j]; j++)
			;
		if (!names[i][j] && !s[j])
			return (enum stderr_mode)i;
	}
	return STDERR_MODE_INVALID;
}

#endif
