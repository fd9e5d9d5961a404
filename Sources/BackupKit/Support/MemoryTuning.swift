import CLinux

/// Keeps the pipelines' memory flat. The backup encoder recycles a fixed set of buffers, but the
/// restore pipeline copies each downloaded chunk on one thread and frees it on another; glibc's
/// per-thread arenas and its self-raising mmap threshold would keep such freed buffers as
/// resident memory. A fixed threshold of 256 KiB maps every large buffer on its own, so freeing
/// it returns it to the system at once.
package enum MemoryTuning {
    package static func apply() {
        _ = CLinux_setMmapThreshold(256 * 1024)
    }
}
