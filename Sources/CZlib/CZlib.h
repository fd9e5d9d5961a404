// zlib for Swift (streaming inflate of restores). inflateInit2 is a macro that passes the
// library version and stream size; Swift cannot call macros, so it is wrapped here.
#include <zlib.h>

static inline int CZlib_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
