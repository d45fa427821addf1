/* fdio: reading a descriptor to a bound, the way every file reader here
 * needs it (short reads and EINTR handled), and making a directory path. */
#ifndef JCW_FDIO_H
#define JCW_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads until max bytes are in buf or the end of the file. The number
 * read (< max only at the end), or -errno. */
ssize_t fd_read_full(int fd, void *buf, size_t max);

/* mkdir -p: the missing components of path are made with mode (existing
 * ones are left as they are). 0 or -errno. */
int mkdir_path(const char *path, mode_t mode);

#endif
