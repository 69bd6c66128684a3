// The memory character devices (major 1: null, zero, full, random,
// urandom), implemented in the Sentry. A device node found in the root
// is never opened on the host; if it names one of these, the Sentry's own
// implementation answers (as devices(7) of Linux's mem driver describe).
#pragma once

#include <sys/types.h>

#include <memory>

#include "common/result.h"
#include "vfs/file.h"

namespace runsc::vfs {

// A description for the character device `rdev` opened with `flags`, or
// ENXIO for a device the Sentry does not provide (open(2): "no such device").
Result<std::shared_ptr<FileDescription>> open_char_device(dev_t rdev, int flags);

}  // namespace runsc::vfs
