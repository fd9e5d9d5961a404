// SQLite's C API for Swift. SQLITE_TRANSIENT is a cast macro Swift cannot import,
// so it is re-exposed as a function.
#include <sqlite3.h>

static inline sqlite3_destructor_type CSQLite_transient(void) {
    return SQLITE_TRANSIENT;
}
