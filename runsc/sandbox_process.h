// A process of the container, made inside a running Sentry: the first one
// (pid 1, at boot) or one `runsc exec` adds later.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "runsc/config.h"

namespace runsc::kernel {
class Kernel;
class Task;
}  // namespace runsc::kernel
namespace runsc::vfs {
class Dentry;
}

namespace runsc::cli {

// A new process (its own pid, thread group and FD table) with the
// credentials, capabilities, rlimits, no_new_privs, oom_score_adj and
// working directory `config` gives, and host FDs stdio[0..2] as its FDs
// 0..2 (a negative one is left closed). It has no parent in the sandbox
// (ppid 0) and runs nothing until exec_program(). `error` says what failed.
Result<std::shared_ptr<kernel::Task>> make_process(kernel::Kernel& kernel, const std::shared_ptr<vfs::Dentry>& root,
                                                   const BootConfig& config, const int stdio[3], std::string& error);

// Loads config.argv[0], searched in the sandbox's PATH (execvp's rule),
// into the task.
Result<void> exec_program(kernel::Task& task, const BootConfig& config);

}  // namespace runsc::cli
