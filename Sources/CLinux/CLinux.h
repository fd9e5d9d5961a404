// glibc functions that Swift's Glibc module does not export: mallopt (malloc.h) and
// sync_file_range (fcntl.h, a GNU extension, declared here as glibc defines it).
#include <malloc.h>
#include <sys/types.h>

extern int sync_file_range(int fd, __off64_t offset, __off64_t nbytes, unsigned int flags);

static inline int CLinux_setMmapThreshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

/// Starts writeback of a file range without waiting (SYNC_FILE_RANGE_WRITE).
static inline int CLinux_startWriteback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, 2);
}

/// Writes a file range back and waits for it (WAIT_BEFORE | WRITE | WAIT_AFTER).
static inline int CLinux_finishWriteback(int fd, long long offset, long long length) {
    return sync_file_range(fd, offset, length, 1 | 2 | 4);
}

extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// Renames `from` to `to` only if `to` does not exist (RENAME_NOREPLACE, relative to the
/// working folder); -1 with errno EEXIST when it does, EINVAL where the file system has no
/// such rename.
static inline int CLinux_renameNoReplace(const char *from, const char *to) {
    return renameat2(-100, from, -100, to, 1);
}

#include <fcntl.h>
#include <linux/falloc.h>

/// Frees the disk blocks of a file range, keeping the file's size (FALLOC_FL_PUNCH_HOLE):
/// -1 with errno EOPNOTSUPP where the file system cannot.
static inline int CLinux_punchHole(int fd, long long offset, long long length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

/// Allocates the disk blocks of a file range without changing the file's size
/// (FALLOC_FL_KEEP_SIZE): -1 with errno ENOSPC when they do not fit, EOPNOTSUPP where the
/// file system cannot.
static inline int CLinux_reserve(int fd, long long offset, long long length) {
    return fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length);
}
