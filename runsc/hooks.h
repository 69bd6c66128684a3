// OCI hooks (runtime-spec config.md, "POSIX-platform Hooks"): host
// programs the runtime runs at points of a container's life, each given
// the container's state as JSON on its stdin.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace runsc::cli {

// Whether `spec` has hooks of `kind` ("prestart", "createRuntime", ...).
bool has_hooks(const nlohmann::ordered_json& spec, const char* kind);

// Runs the hooks of `kind` in `spec` in order, each with `state` on its
// stdin, stopping at the first one that fails (non-zero exit, a signal, or
// its `timeout` in seconds passing). Returns "" or what went wrong, with
// the hook's output.
std::string run_hooks(const nlohmann::ordered_json& spec, const char* kind, const nlohmann::ordered_json& state);

}  // namespace runsc::cli
