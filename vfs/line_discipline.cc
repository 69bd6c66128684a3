#include "vfs/line_discipline.h"

#include <signal.h>
#include <termios.h>

#include <algorithm>
#include <cctype>

namespace runsc::vfs {
namespace {

bool is_control(uint8_t c) { return c < 0x20 || c == 0x7f; }

}  // namespace

LineDiscipline::LineDiscipline() : termios_{} {
  // A new pty's slave settings (Linux: tty_std_termios with the pty
  // driver's c_cflag): cooked input with echo and signals, "\n" out as
  // "\r\n", 38400 baud, 8 bits.
  termios_.iflag = ICRNL | IXON;
  termios_.oflag = OPOST | ONLCR;
  termios_.cflag = B38400 | CS8 | CREAD;
  termios_.lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
  termios_.cc[VINTR] = 003;     // ^C
  termios_.cc[VQUIT] = 034;     // ^backslash
  termios_.cc[VERASE] = 0177;   // DEL
  termios_.cc[VKILL] = 025;     // ^U
  termios_.cc[VEOF] = 004;      // ^D
  termios_.cc[VTIME] = 0;
  termios_.cc[VMIN] = 1;
  termios_.cc[VSTART] = 021;    // ^Q
  termios_.cc[VSTOP] = 023;     // ^S
  termios_.cc[VSUSP] = 032;     // ^Z
  termios_.cc[VREPRINT] = 022;  // ^R
  termios_.cc[VDISCARD] = 017;  // ^O
  termios_.cc[VWERASE] = 027;   // ^W
  termios_.cc[VLNEXT] = 026;    // ^V
}

void LineDiscipline::set_termios(const KernelTermios& t) {
  const bool was_canonical = flag_l(ICANON);
  termios_ = t;
  const bool canonical = flag_l(ICANON);
  if (was_canonical && !canonical) {
    // What was being edited becomes readable at once.
    for (uint8_t c : line_) ready_.push_back({c, false, false});
    line_.clear();
    literal_next_ = false;
  } else if (!was_canonical && canonical) {
    // Unread input becomes one line, readable as it is (Linux's
    // n_tty_set_termios() marks its last byte as a line's end): what was
    // typed ahead of a program that turned canonical mode back on is not
    // lost in an unfinished line.
    for (Cell& c : ready_) c.line_end = false;
    if (!ready_.empty() && !ready_.back().eof) ready_.back().line_end = true;
    line_start_column_ = column_;
  }
  if (!flag_i(IXON)) stopped_ = false;
}

size_t LineDiscipline::receive(std::span<const uint8_t> in, std::vector<int>& signals) {
  size_t taken = 0;
  for (uint8_t c : in) {
    if (input_full()) break;
    receive_char(c, signals);
    ++taken;
  }
  return taken;
}

bool LineDiscipline::input_full() const { return ready_.size() >= kMaxInput; }

void LineDiscipline::receive_char(uint8_t c, std::vector<int>& signals) {
  const uint8_t* cc = termios_.cc;
  // A control character set to 0 is disabled (_POSIX_VDISABLE).
  auto is = [&](int index) { return cc[index] != 0 && c == cc[index]; };
  if (flag_i(ISTRIP)) c &= 0x7f;
  if (literal_next_) {
    // After VLNEXT the character is taken as it is (termios(3)).
    literal_next_ = false;
    // Its echo lands on the "^" shown for VLNEXT (the cursor went back).
    if (flag_l(ECHO)) echo(c);
    if (flag_l(ICANON)) {
      if (line_.size() < kMaxInput - 1) line_.push_back(c);
    } else {
      ready_.push_back({c, false, false});
    }
    return;
  }
  if (flag_i(IUCLC) && flag_l(IEXTEN)) c = static_cast<uint8_t>(std::tolower(c));
  if (flag_i(IXON)) {
    if (is(VSTART)) {
      stopped_ = false;
      return;
    }
    if (is(VSTOP)) {
      stopped_ = true;
      return;
    }
  }
  if (flag_l(ISIG)) {
    int signo = is(VINTR) ? SIGINT : is(VQUIT) ? SIGQUIT : is(VSUSP) ? SIGTSTP : 0;
    if (signo) {
      // The foreground process group gets the signal; unless NOFLSH the
      // unread input goes (termios(3)); the character is echoed.
      signals.push_back(signo);
      if (!flag_l(NOFLSH)) flush_input();
      if (flag_i(IXON)) stopped_ = false;
      if (flag_l(ECHO)) echo(c);
      return;
    }
  }
  if (stopped_ && flag_i(IXON) && flag_i(IXANY)) stopped_ = false;
  if (c == '\r') {
    if (flag_i(IGNCR)) return;
    if (flag_i(ICRNL)) c = '\n';
  } else if (c == '\n' && flag_i(INLCR)) {
    c = '\r';
  }
  if (flag_l(ICANON)) {
    canonical_char(c);
    return;
  }
  if (flag_l(ECHO)) {
    if (c == '\n') {
      echo_raw('\n');
    } else {
      echo(c);
    }
  }
  ready_.push_back({c, false, false});
}

void LineDiscipline::canonical_char(uint8_t c) {
  const uint8_t* cc = termios_.cc;
  auto is = [&](int index) { return cc[index] != 0 && c == cc[index]; };
  const bool extended = flag_l(IEXTEN);
  if (is(VERASE) || is(VKILL) || (extended && is(VWERASE))) {
    erase(c);
    return;
  }
  if (extended && is(VLNEXT)) {
    literal_next_ = true;
    if (flag_l(ECHO) && flag_l(ECHOCTL)) {
      echo_raw('^');
      echo_raw('\b');
    }
    return;
  }
  if (extended && flag_l(ECHO) && is(VREPRINT)) {
    // Shows the line again on a new line.
    echo(c);
    echo_raw('\n');
    line_start_column_ = column_;
    for (uint8_t ch : line_) echo(ch);
    return;
  }
  if (c == '\n') {
    if (flag_l(ECHO) || flag_l(ECHONL)) echo_raw('\n');
    finish_line(c, false);
    return;
  }
  if (is(VEOF)) {
    finish_line(c, true);  // not echoed, not data
    return;
  }
  if (is(VEOL) || (extended && is(VEOL2))) {
    if (flag_l(ECHO)) {
      if (line_.empty()) line_start_column_ = column_;
      echo(c);
    }
    finish_line(c, false);
    return;
  }
  // A full line takes nothing but its end.
  if (line_.size() >= kMaxInput - 1) return;
  if (flag_l(ECHO)) {
    if (line_.empty()) line_start_column_ = column_;
    echo(c);
  }
  line_.push_back(c);
}

void LineDiscipline::finish_line(uint8_t c, bool eof) {
  for (uint8_t ch : line_) ready_.push_back({ch, false, false});
  line_.clear();
  if (eof) {
    ready_.push_back({0, false, true});
  } else {
    ready_.push_back({c, true, false});
  }
}

size_t LineDiscipline::echoed_width(size_t i) const {
  size_t column = line_start_column_;
  for (size_t j = 0; j < i; ++j) {
    const uint8_t ch = line_[j];
    if (ch == '\t') {
      column = (column | 7) + 1;
    } else if (is_control(ch)) {
      column += flag_l(ECHOCTL) ? 2 : 0;
    } else {
      ++column;
    }
  }
  const uint8_t ch = line_[i];
  if (ch == '\t') return ((column | 7) + 1) - column;
  if (is_control(ch)) return flag_l(ECHOCTL) ? 2 : 0;
  return 1;
}

void LineDiscipline::erase_columns(size_t columns) {
  for (size_t i = 0; i < columns; ++i) {
    echo_raw('\b');
    echo_raw(' ');
    echo_raw('\b');
  }
}

void LineDiscipline::erase(uint8_t c) {
  if (line_.empty()) return;
  const uint8_t* cc = termios_.cc;
  enum { kErase, kWordErase, kKill } kind;
  if (cc[VERASE] != 0 && c == cc[VERASE]) {
    kind = kErase;
  } else if (cc[VWERASE] != 0 && c == cc[VWERASE]) {
    kind = kWordErase;
  } else {
    // Kill: without ECHOKE/ECHOE/ECHOK the line goes and the kill
    // character is echoed (then a newline under ECHOK); with them every
    // character is rubbed out on the screen.
    if (!flag_l(ECHO)) {
      line_.clear();
      return;
    }
    if (!flag_l(ECHOK) || !flag_l(ECHOKE) || !flag_l(ECHOE)) {
      line_.clear();
      echo(c);
      if (flag_l(ECHOK)) echo_raw('\n');
      return;
    }
    kind = kKill;
  }
  bool seen_word = false;
  while (!line_.empty()) {
    const uint8_t last = line_.back();
    if (kind == kWordErase) {
      // A word: letters, digits and underscores, after any blanks.
      if (std::isalnum(last) || last == '_') {
        seen_word = true;
      } else if (seen_word) {
        break;
      }
    }
    const size_t width = echoed_width(line_.size() - 1);
    line_.pop_back();
    if (flag_l(ECHO)) {
      if (kind == kErase && !flag_l(ECHOE)) {
        echo(c);
      } else if (last == '\t') {
        for (size_t i = 0; i < width; ++i) echo_raw('\b');
      } else {
        erase_columns(width);
      }
    }
    if (kind == kErase) break;
  }
}

void LineDiscipline::echo(uint8_t c) {
  // ECHOCTL shows control characters other than tab as ^X.
  if (flag_l(ECHOCTL) && is_control(c) && c != '\t') {
    put_output('^');
    put_output(c ^ 0100);
  } else {
    put_output(c);
  }
}

void LineDiscipline::put_output(uint8_t c) {
  // Echoes are dropped once the master has this much unread, rather than
  // holding up input (Linux drops them when the output has no room).
  if (output_.size() >= 2 * kMaxOutput) return;
  if (!flag_o(OPOST)) {
    output_.push_back(c);
    return;
  }
  switch (c) {
    case '\n':
      if (flag_o(ONLRET)) column_ = 0;
      if (flag_o(ONLCR)) {
        output_.push_back('\r');
        column_ = 0;
      }
      break;
    case '\r':
      if (flag_o(ONOCR) && column_ == 0) return;
      if (flag_o(OCRNL)) {
        c = '\n';
        if (flag_o(ONLRET)) column_ = 0;
        break;
      }
      column_ = 0;
      break;
    case '\t': {
      const size_t spaces = 8 - (column_ & 7);
      if ((termios_.oflag & TABDLY) == XTABS) {
        output_.insert(output_.end(), spaces, ' ');
        column_ += spaces;
        return;
      }
      column_ += spaces;
      break;
    }
    case '\b':
      if (column_ > 0) --column_;
      break;
    default:
      if (!is_control(c)) {
        if (flag_o(OLCUC)) c = static_cast<uint8_t>(std::toupper(c));
        ++column_;
      }
      break;
  }
  output_.push_back(c);
}

size_t LineDiscipline::write_output(std::span<const uint8_t> in) {
  size_t taken = 0;
  for (uint8_t c : in) {
    if (output_full()) break;
    put_output(c);
    ++taken;
  }
  return taken;
}

// In canonical mode ready_ holds whole lines only (the line being edited
// is line_), so anything there is readable in either mode.
bool LineDiscipline::input_readable() const { return !ready_.empty(); }

size_t LineDiscipline::input_available() const {
  return static_cast<size_t>(std::count_if(ready_.begin(), ready_.end(), [](const Cell& c) { return !c.eof; }));
}

size_t LineDiscipline::read_input(std::span<uint8_t> out, bool& eof) {
  eof = false;
  size_t n = 0;
  const bool canonical = flag_l(ICANON);
  while (n < out.size() && !ready_.empty()) {
    const Cell cell = ready_.front();
    if (cell.eof) {
      // The end-of-file character ends the line and is not read; on an
      // empty line the read returns 0 (termios(3), VEOF).
      if (!canonical) {
        ready_.pop_front();
        continue;
      }
      ready_.pop_front();
      eof = n == 0;
      break;
    }
    ready_.pop_front();
    out[n++] = cell.ch;
    if (canonical && cell.line_end) break;
  }
  return n;
}

size_t LineDiscipline::read_output(std::span<uint8_t> out) {
  const size_t n = std::min(out.size(), output_.size());
  std::copy_n(output_.begin(), n, out.begin());
  output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

void LineDiscipline::flush_input() {
  ready_.clear();
  line_.clear();
  literal_next_ = false;
}

}  // namespace runsc::vfs
