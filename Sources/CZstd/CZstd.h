// libzstd (Debian's libzstd-dev): Zstandard frames, compressed block by block in parallel by
// the backup encoder and streamed back by the restore decoder.
#include <zstd.h>
