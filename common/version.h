#ifndef JCW_VERSION_H
#define JCW_VERSION_H
#ifndef JCW_VERSION
#define JCW_VERSION "0.1.0"
#endif
#endif
