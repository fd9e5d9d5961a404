// glibc's mallopt, which Swift's Glibc module does not export.
#include <malloc.h>

static inline int CMalloc_setMmapThreshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
