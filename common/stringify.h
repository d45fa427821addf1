/* stringify: a macro's value as a string literal, so a number defined once
 * can also appear in SQL, help text or option defaults. */
#ifndef JCW_STRINGIFY_H
#define JCW_STRINGIFY_H

#define JCW_STR_(x) #x
#define JCW_STR(x) JCW_STR_(x)

#endif
