// The filesystem whose files live on the host and are reached only through
// the gofer: the Sentry holds gofer handles, never host paths.
#pragma once

#include <memory>

#include "vfs/file.h"

namespace runsc::gofer {
class Client;
}
namespace runsc::mm {
class MemoryFile;
}

namespace runsc::vfs {

// The root dentry of the tree the gofer serves; `writable` when the gofer
// serves it writable and the Sentry may change it. With `memfile`, shared
// mappings of a writable tree's files share pages kept there.
Result<std::shared_ptr<Dentry>> make_gofer_root(std::shared_ptr<gofer::Client> client, bool writable = false,
                                                 std::shared_ptr<mm::MemoryFile> memfile = nullptr);

}  // namespace runsc::vfs
