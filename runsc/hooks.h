// OCI hooks (runtime-spec config.md, "POSIX-platform Hooks"): host
// programs the runtime runs at points of a container's life, each given
// the container's state as JSON on its stdin.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace runsc::cli {

// A hook's stdin and output, in memfds (no pipe to fill and block on):
// `in` holds `state`; `out` takes its stdout and stderr, read back if it
// fails. Our own stdio may be the container's, which its chatter must not
// reach.
struct HookIo {
  UniqueFd in, out;
};
Result<HookIo> hook_io(const std::string& state);
// What a failed hook printed (up to 4 KiB), as ": ..." for an error
// message, or "".
std::string hook_output(int fd);

// Whether `spec` has hooks of `kind` ("prestart", "createRuntime", ...).
bool has_hooks(const nlohmann::ordered_json& spec, const char* kind);

// Runs the hooks of `kind` in `spec` in order, each with `state` on its
// stdin, stopping at the first one that fails (non-zero exit, a signal, or
// its `timeout` in seconds passing). Returns "" or what went wrong, with
// the hook's output.
std::string run_hooks(const nlohmann::ordered_json& spec, const char* kind, const nlohmann::ordered_json& state);

}  // namespace runsc::cli
