// The terminal line discipline of a pseudo-terminal (Linux's N_TTY, as
// termios(3) describes it): input from the master is edited (ICANON:
// erase, kill, word erase, end of file, literal next), translated (ICRNL,
// INLCR, IGNCR, ISTRIP), echoed (ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL,
// ECHONL) and turned into signals (ISIG); output from the slave is
// post-processed (OPOST: ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS) on its
// way to the master. Pure state, no locking and no waiting: devpts holds
// the lock and does the blocking.
#pragma once

#include <sys/ioctl.h>

#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace runsc::vfs {

// The kernel's struct termios (TCGETS/TCSETS: 36 bytes), not glibc's
// larger one.
struct KernelTermios {
  uint32_t iflag, oflag, cflag, lflag;
  uint8_t line;
  uint8_t cc[19];
};
static_assert(sizeof(KernelTermios) == 36);

class LineDiscipline {
 public:
  // The most bytes waiting for the slave to read, and for the master to
  // read; past them the writer blocks (Linux: N_TTY_BUF_SIZE and the pty
  // buffer limit). A canonical line holds at most kMaxInput - 1
  // characters; more are dropped except the line's end.
  static constexpr size_t kMaxInput = 4096;
  static constexpr size_t kMaxOutput = 65536;

  LineDiscipline();

  const KernelTermios& termios() const { return termios_; }
  // TCSETS: switching ICANON off makes the line being edited readable;
  // switching it on makes unread input one whole line.
  void set_termios(const KernelTermios& t);
  const winsize& window_size() const { return winsize_; }
  void set_window_size(const winsize& w) { winsize_ = w; }

  // Bytes written to the master. Returns how many were taken (fewer when
  // the input queue is full) and appends the signals the input raised
  // (ISIG characters) to `signals`.
  size_t receive(std::span<const uint8_t> in, std::vector<int>& signals);
  // Bytes written by the slave: how many were taken (fewer when the
  // master's queue is full).
  size_t write_output(std::span<const uint8_t> in);

  // What a slave read may take now: in canonical mode only whole lines
  // (one per read, the line's end included, an end-of-file character
  // not), else whatever is queued. A canonical end of file on an empty
  // line reads as 0 bytes: `eof` says so.
  size_t read_input(std::span<uint8_t> out, bool& eof);
  bool input_readable() const;
  // FIONREAD on the slave: the bytes a read could return (whole lines in
  // canonical mode).
  size_t input_available() const;
  // Master read: the output queue.
  size_t read_output(std::span<uint8_t> out);
  size_t output_available() const { return output_.size(); }
  bool output_full() const { return output_.size() >= kMaxOutput; }
  bool input_full() const;
  // Output stopped by IXON's stop character (^S) until the start one.
  bool output_stopped() const { return stopped_; }

  // TCFLSH: throw away unread input and/or unread output.
  void flush_input();
  void flush_output() { output_.clear(); }
  // TCXONC: TCOOFF/TCOON stop and restart output.
  void set_output_stopped(bool stopped) { stopped_ = stopped; }

 private:
  struct Cell {
    uint8_t ch;
    bool line_end;  // the last character of a canonical line
    bool eof;       // a canonical end of file: ends the line, not data
  };

  void receive_char(uint8_t c, std::vector<int>& signals);
  void canonical_char(uint8_t c);
  void erase(uint8_t c);
  void finish_line(uint8_t c, bool eof);
  void echo(uint8_t c);
  void echo_raw(uint8_t c) { put_output(c); }
  void put_output(uint8_t c);
  void erase_columns(size_t columns);
  // The width of `line_[i]` as echoed where it stood (tabs depend on the
  // column; ECHOCTL shows control characters as two).
  size_t echoed_width(size_t i) const;

  bool flag_l(uint32_t f) const { return termios_.lflag & f; }
  bool flag_i(uint32_t f) const { return termios_.iflag & f; }
  bool flag_o(uint32_t f) const { return termios_.oflag & f; }

  KernelTermios termios_;
  winsize winsize_{};
  std::deque<Cell> ready_;         // what the slave may read
  std::vector<uint8_t> line_;      // the canonical line being edited
  size_t line_start_column_ = 0;   // the output column where line_ began
  std::deque<uint8_t> output_;     // what the master may read
  size_t column_ = 0;              // the output column (tabs, erase, ONOCR)
  bool literal_next_ = false;      // VLNEXT seen
  bool stopped_ = false;
};

}  // namespace runsc::vfs
