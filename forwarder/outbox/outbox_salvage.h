/* outbox_salvage: what to do with a damaged outbox database.
 *
 * SQLite keeps no page checksums: a flipped byte inside a row's text goes
 * unnoticed, but damage to the file header or to a b-tree page (and a cut
 * tail, which leaves pages missing) makes PRAGMA quick_check fail or turns
 * reads into SQLITE_CORRUPT / SQLITE_NOTADB. Such a file is moved (with its
 * -wal and -shm) into DIR/quarantine/ under a UTC timestamp, never deleted,
 * and every row that can still be read is copied into the fresh database:
 * rows are probed by rowid ("the next row at or after N"), and a probe that
 * fails skips ahead by a doubling step, so one bad page costs the rows on it
 * and not the rest of the table. */
#ifndef JCW_OUTBOX_SALVAGE_H
#define JCW_OUTBOX_SALVAGE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct outbox_salvage_result {
	uint64_t files;          /* databases moved to quarantine/ (with their -wal, -shm) */
	uint64_t rows;           /* outbox (event) rows copied */
	uint64_t other_rows;     /* dead_letter, pending_exec and boot rows copied */
	uint64_t errors;         /* failed reads (each may hide several rows) */
	char path[512];          /* the quarantined database file */
};

/* The database at db_path (in dir) is damaged: moves it aside. 0 or -errno
 * with a message in err; nothing is salvaged on error. */
int outbox_salvage_quarantine(const char *dir, const char *db_path,
			      struct outbox_salvage_result *res, char *err, size_t errlen);

/* Copies what can be read from the quarantined file res->path into fresh,
 * which has the current schema (one transaction). Tables or columns the
 * quarantined file lacks are skipped. Fills the row counts. 0, or -EIO
 * when writing to fresh failed (message in err). */
int outbox_salvage_copy(sqlite3 *fresh, struct outbox_salvage_result *res,
			char *err, size_t errlen);

/* True when rc (a primary or extended SQLite result code) says the file is
 * damaged rather than unavailable. */
int outbox_salvage_is_corrupt(int rc);

#endif
