#include "spec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const struct ps2_column ps2_columns[] = {
	{"EventType", PS2_ENUM, PS2_REQUIRED},
	{"EventID", PS2_ID, PS2_REQUIRED},
	{"CodeStateID", PS2_ID, PS2_REQUIRED},
	{"SubjectID", PS2_ID, PS2_REQUIRED},
	{"ToolInstances", PS2_STRING, PS2_REQUIRED},
	{"Order", PS2_INTEGER, PS2_OPTIONAL},
	{"ClientTimestamp", PS2_TIMESTAMP, PS2_OPTIONAL},
	{"ServerTimestamp", PS2_TIMESTAMP, PS2_OPTIONAL},
	{"CourseID", PS2_ID, PS2_OPTIONAL},
	{"CourseSectionID", PS2_ID, PS2_OPTIONAL},
	{"TermID", PS2_ID, PS2_OPTIONAL},
	{"AssignmentID", PS2_ID, PS2_OPTIONAL},
	{"AssignmentIsGraded", PS2_BOOLEAN, PS2_OPTIONAL},
	{"ProblemID", PS2_ID, PS2_OPTIONAL},
	{"ProblemIsGraded", PS2_BOOLEAN, PS2_OPTIONAL},
	{"Attempt", PS2_INTEGER, PS2_OPTIONAL},
	{"ExperimentalCondition", PS2_STRING, PS2_OPTIONAL},
	{"TeamID", PS2_ID, PS2_OPTIONAL},
	{"LoggingErrorID", PS2_ID, PS2_OPTIONAL},
	{"IsFabricatedEvent", PS2_BOOLEAN, PS2_OPTIONAL},
	{"ParentEventID", PS2_ID, PS2_EVENT_SPECIFIC},
	{"SessionID", PS2_ID, PS2_EVENT_SPECIFIC},
	{"ProjectID", PS2_ID, PS2_EVENT_SPECIFIC},
	{"ResourceID", PS2_ID, PS2_EVENT_SPECIFIC},
	{"CodeStateSection", PS2_SOURCE_LOCATION, PS2_EVENT_SPECIFIC},
	{"CopiedText", PS2_STRING, PS2_EVENT_SPECIFIC},
	{"DestinationCodeStateSection", PS2_SOURCE_LOCATION, PS2_EVENT_SPECIFIC},
	{"EventInitiator", PS2_ENUM, PS2_EVENT_SPECIFIC},
	{"EditType", PS2_ENUM, PS2_EVENT_SPECIFIC},
	{"CompileResult", PS2_ENUM, PS2_EVENT_SPECIFIC},
	{"CompileMessageType", PS2_STRING, PS2_EVENT_SPECIFIC},
	{"CompileMessageData", PS2_STRING, PS2_EVENT_SPECIFIC},
	{"SourceLocation", PS2_SOURCE_LOCATION, PS2_EVENT_SPECIFIC},
	{"ExecutionID", PS2_ID, PS2_EVENT_SPECIFIC},
	{"TestID", PS2_ID, PS2_EVENT_SPECIFIC},
	{"ExecutionResult", PS2_ENUM, PS2_EVENT_SPECIFIC},
	{"Score", PS2_REAL, PS2_EVENT_SPECIFIC},
	{"ExtraCreditScore", PS2_REAL, PS2_EVENT_SPECIFIC},
	{"ProgramInput", PS2_URL, PS2_EVENT_SPECIFIC},
	{"ProgramOutput", PS2_URL, PS2_EVENT_SPECIFIC},
	{"ProgramErrorOutput", PS2_URL, PS2_EVENT_SPECIFIC},
	{"InterventionCategory", PS2_ENUM, PS2_EVENT_SPECIFIC},
	{"InterventionType", PS2_STRING, PS2_EVENT_SPECIFIC},
	{"InterventionMessage", PS2_STRING, PS2_EVENT_SPECIFIC},
	{"InsertText", PS2_STRING, PS2_EVENT_SPECIFIC},
	{"DeleteText", PS2_STRING, PS2_EVENT_SPECIFIC},
	{"DeleteLength", PS2_INTEGER, PS2_EVENT_SPECIFIC},
};
const size_t ps2_ncolumns = sizeof(ps2_columns) / sizeof(ps2_columns[0]);

#define REQ(...) (const char *const[]){__VA_ARGS__, NULL}
const struct ps2_event_type ps2_event_types[] = {
	{"Session.Start", REQ("SessionID")},
	{"Session.End", REQ("SessionID")},
	{"Project.Open", REQ("ProjectID")},
	{"Project.Close", REQ("ProjectID")},
	{"File.Create", REQ("CodeStateSection")},
	{"File.Delete", REQ("CodeStateSection")},
	{"File.Open", REQ("CodeStateSection")},
	{"File.Close", REQ("CodeStateSection")},
	{"File.Save", REQ("CodeStateSection")},
	{"File.Rename", REQ("CodeStateSection", "DestinationCodeStateSection")},
	{"File.Copy", REQ("CodeStateSection", "DestinationCodeStateSection")},
	{"File.Edit", REQ("CodeStateSection", "EditType")},
	{"File.Focus", REQ("CodeStateSection")},
	{"File.CopyText", REQ("CopiedText")},
	{"Compile", REQ("CodeStateSection", "CompileResult")},
	{"Compile.Error", REQ("ParentEventID", "CodeStateSection", "CompileMessageType",
			      "CompileMessageData", "SourceLocation")},
	{"Compile.Warning", REQ("ParentEventID", "CodeStateSection", "CompileMessageType",
				"CompileMessageData", "SourceLocation")},
	{"Submit", REQ(NULL)},
	{"Run.Program", REQ("ExecutionResult")},
	{"Run.Test", REQ("ExecutionID", "TestID", "ExecutionResult")},
	{"Debug.Program", REQ("ExecutionResult")},
	{"Debug.Test", REQ("ExecutionID", "TestID", "ExecutionResult")},
	{"Resource.View", REQ("ResourceID")},
	{"Intervention", REQ("EventInitiator", "InterventionCategory", "InterventionType",
			     "InterventionMessage")},
};
const size_t ps2_nevent_types = sizeof(ps2_event_types) / sizeof(ps2_event_types[0]);

const struct ps2_column *ps2_column(const char *name)
{
	size_t i;

	for (i = 0; i < ps2_ncolumns; i++)
		if (!strcmp(ps2_columns[i].name, name))
			return &ps2_columns[i];
	return NULL;
}

const struct ps2_event_type *ps2_event_type(const char *name)
{
	size_t i;

	for (i = 0; i < ps2_nevent_types; i++)
		if (!strcmp(ps2_event_types[i].name, name))
			return &ps2_event_types[i];
	return NULL;
}

static bool digits(const char **p, int n)
{
	int i;

	for (i = 0; i < n; i++, (*p)++)
		if (!isdigit((unsigned char)**p))
			return false;
	return true;
}

static bool lit(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

bool ps2_timestamp_with_offset(const char *v)
{
	const char *p = v;

	if (!digits(&p, 4) || !lit(&p, '-') || !digits(&p, 2) || !lit(&p, '-') || !digits(&p, 2) ||
	    !lit(&p, 'T') || !digits(&p, 2) || !lit(&p, ':') || !digits(&p, 2) || !lit(&p, ':') ||
	    !digits(&p, 2))
		return false;
	if (lit(&p, '.')) {
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (lit(&p, 'Z'))
		return *p == '\0';
	if (!lit(&p, '+') && !lit(&p, '-'))
		return false;
	if (!digits(&p, 2))
		return false;
	lit(&p, ':');
	return digits(&p, 2) && *p == '\0';
}

bool ps2_value_ok(enum ps2_type t, const char *v)
{
	char *end;

	if (!*v)
		return true;
	switch (t) {
	case PS2_INTEGER:
		strtoll(v, &end, 10);
		return *end == '\0';
	case PS2_REAL:
		strtod(v, &end);
		return *end == '\0';
	case PS2_BOOLEAN:
		return !strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "TRUE") ||
		       !strcmp(v, "FALSE") || !strcmp(v, "True") || !strcmp(v, "False");
	case PS2_TIMESTAMP:
		return ps2_timestamp_with_offset(v);
	case PS2_ID:
	case PS2_ENUM:
		return !strchr(v, '\n');
	default:
		return true;
	}
}

const char *ps2_type_name(enum ps2_type t)
{
	static const char *const n[] = {"ID", "String", "Integer", "Real", "Boolean", "Timestamp",
					"Enum", "URL", "SourceLocation"};
	return n[t];
}
