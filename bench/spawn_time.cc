// spawn_time: wall time of starting a command and waiting for it.
//
//   spawn_time [-n M] [-w W] [--inherit] [--] COMMAND [ARGS...]
//
// Runs COMMAND W times as warm-up (default 2) and then M times (default 20),
// each a plain fork + execvp + waitpid, and prints one line:
//
//   median_ms=<float> min_ms=<float> max_ms=<float> runs=<M>
//
// The command's stdout and stderr go to /dev/null unless --inherit is given.
// If any run fails to start or exits non-zero, spawn_time says so on stderr
// and exits 1 without printing a result, so scripts can report "n/a".
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: spawn_time [-n M] [-w W] [--inherit] [--] COMMAND "
               "[ARGS...]\n");
  std::exit(2);
}

int parse_count(const char* s, int min) {
  std::string_view v = s;
  int out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || ptr != v.data() + v.size() || out < min) {
    std::fprintf(stderr, "spawn_time: bad count '%s'\n", s);
    std::exit(2);
  }
  return out;
}

// Runs argv once; returns elapsed milliseconds, or a negative value on failure.
double run_once(char** argv, bool inherit) {
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("spawn_time: fork");
    return -1;
  }
  if (pid == 0) {
    if (!inherit) {
      int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
      }
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      std::perror("spawn_time: waitpid");
      return -1;
    }
  }
  const auto end = std::chrono::steady_clock::now();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status)) {
      std::fprintf(stderr, "spawn_time: '%s' exited with status %d\n", argv[0],
                   WEXITSTATUS(status));
    } else {
      std::fprintf(stderr, "spawn_time: '%s' killed by signal %d\n", argv[0],
                   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    return -1;
  }
  return std::chrono::duration<double, std::milli>(end - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  int warmup = 2;
  bool inherit = false;
  int first = 1;
  for (; first < argc; ++first) {
    std::string_view arg = argv[first];
    if (arg == "-n" && first + 1 < argc) {
      runs = parse_count(argv[++first], 1);
    } else if (arg == "-w" && first + 1 < argc) {
      warmup = parse_count(argv[++first], 0);
    } else if (arg == "--inherit") {
      inherit = true;
    } else if (arg == "--") {
      ++first;
      break;
    } else if (!arg.empty() && arg[0] == '-') {
      usage();
    } else {
      break;
    }
  }
  if (first >= argc) {
    usage();
  }
  char** cmd = &argv[first];

  for (int i = 0; i < warmup; ++i) {
    if (run_once(cmd, inherit) < 0) {
      return 1;
    }
  }
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    double ms = run_once(cmd, inherit);
    if (ms < 0) {
      return 1;
    }
    samples.push_back(ms);
  }
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  const double median = n % 2 == 1
                            ? samples[n / 2]
                            : (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
  std::printf("median_ms=%.3f min_ms=%.3f max_ms=%.3f runs=%d\n", median,
              samples.front(), samples.back(), runs);
  return 0;
}
