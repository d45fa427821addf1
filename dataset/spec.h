/* spec: what ProgSnap2 v1.0 says of a MainTable (the CSSPLICE specification,
 * progsnap2-v1.0.yaml): its standard columns with their datatypes, and the
 * columns each event type requires. Both `build` (the header it writes)
 * and `check` (what it verifies) read this one table. */
#ifndef JCW_DS_SPEC_H
#define JCW_DS_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#define PS2_VERSION "1.0"

enum ps2_type { PS2_ID, PS2_STRING, PS2_INTEGER, PS2_REAL, PS2_BOOLEAN, PS2_TIMESTAMP,
		PS2_ENUM, PS2_URL, PS2_SOURCE_LOCATION };

enum ps2_req { PS2_REQUIRED, PS2_OPTIONAL, PS2_EVENT_SPECIFIC };

struct ps2_column {
	const char *name;
	enum ps2_type type;
	enum ps2_req req;
};

extern const struct ps2_column ps2_columns[];
extern const size_t ps2_ncolumns;

struct ps2_event_type {
	const char *name;
	const char *const *required;   /* NULL-terminated */
};

extern const struct ps2_event_type ps2_event_types[];
extern const size_t ps2_nevent_types;

/* The standard column, or NULL (an X- column, or a mistake). */
const struct ps2_column *ps2_column(const char *name);
const struct ps2_event_type *ps2_event_type(const char *name);
/* A value's form for its datatype; "" always passes (a blank cell). */
bool ps2_value_ok(enum ps2_type t, const char *v);
/* "2026-11-21T22:40:00.123456+00:00": date, time, optional fraction and
 * an offset (Z or +hh:mm / +hhmm). */
bool ps2_timestamp_with_offset(const char *v);
const char *ps2_type_name(enum ps2_type t);

#endif
