// --strace: one line per syscall, name, decoded arguments and result.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "sentry/kernel/syscall_table.h"

namespace runsc::kernel {

class Task;

std::string format_syscall_entry(Task& task, uint64_t nr, const SyscallInfo* info, const SyscallArgs& args);
void log_syscall_exit(Task& task, const std::string& entry, const SyscallInfo* info, const Result<uint64_t>& result,
                      bool regs_replaced);

}  // namespace runsc::kernel
