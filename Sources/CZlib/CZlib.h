// zlib for Swift. deflateInit2 and inflateInit2 are macros that pass the library
// version and stream size; Swift cannot call macros, so they are wrapped here.
#include <zlib.h>

static inline int CZlib_deflateInit2(z_streamp strm, int level, int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, strategy);
}

static inline int CZlib_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
