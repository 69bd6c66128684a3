// TCP endpoints (RFC 9293): the connection state machine over tcp_wire,
// owned by the Stack. This first slice covers the handshake (active and
// passive, with a backlog), in-order and out-of-order data, the send and
// receive windows with window scaling (RFC 7323), both closes (FIN states,
// simultaneous close, TIME_WAIT), resets, and retransmission by RFC 6298's
// timer (Stack::tick drives it). Not yet: SACK, congestion control,
// delayed ACK, Nagle, keepalive, timestamps.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "common/result.h"
#include "netstack/inet/address.h"

namespace runsc::netstack::inet {

class Stack;

class TcpEndpoint : public std::enable_shared_from_this<TcpEndpoint> {
 public:
  enum class State {
    kClosed, kListen, kSynSent, kSynReceived, kEstablished, kFinWait1, kFinWait2, kCloseWait, kClosing,
    kLastAck, kTimeWait,
  };
  // Called (without the stack's lock) when something changed: data,
  // a connection to accept, the end of the stream, an error.
  void set_on_event(std::function<void()> fn);

  Result<void> bind(Endpoint local);
  Result<void> listen(int backlog);
  // A connection that completed its handshake, or EAGAIN.
  Result<std::shared_ptr<TcpEndpoint>> accept();
  // Sends the SYN; the connection is established when state() says so.
  Result<void> connect(Endpoint remote);
  // Queues bytes to send (as many as the send buffer takes; EAGAIN when
  // full); EPIPE once shut down for writing, ENOTCONN before connecting.
  Result<size_t> send(std::span<const uint8_t> data);
  // Received bytes; 0 at the end of the stream; EAGAIN when none yet.
  Result<size_t> receive(std::span<uint8_t> out);
  // Sends a FIN after the queued data.
  Result<void> shutdown_write();
  // shutdown_write(), or a reset if received data was left unread (as
  // Linux's tcp_close does); a listener's pending connections are reset.
  void close();
  State state() const;
  // The error that ended the connection (ECONNREFUSED, ECONNRESET), once.
  int take_error();
  Endpoint local() const;
  Endpoint remote() const;
  bool v6() const { return v6_; }
  ~TcpEndpoint();

  // Fixed until send-buffer autotuning comes (Linux starts at tcp_wmem's
  // 16 KiB and grows it).
  static constexpr size_t kSendBuffer = 65536;
  static constexpr size_t kReceiveBuffer = 131072;     // tcp_rmem default
  static constexpr uint8_t kWindowShift = 7;           // what Linux advertises with tcp_rmem's 6 MB max
  static constexpr int64_t kTimeWaitNs = 60'000'000'000;  // TCP_TIMEWAIT_LEN
  static constexpr int64_t kMinRtoNs = 200'000'000;        // TCP_RTO_MIN
  static constexpr int64_t kMaxRtoNs = 120'000'000'000;    // TCP_RTO_MAX
  static constexpr int kSynRetries = 6;                    // net.ipv4.tcp_syn_retries
  static constexpr int kRetries = 15;                      // net.ipv4.tcp_retries2

 private:
  friend class Stack;
  TcpEndpoint(Stack* stack, bool v6) : stack_(stack), v6_(v6), local_(IpAddress::any(v6), 0), remote_(IpAddress::any(v6), 0) {}

  Stack* stack_;
  bool v6_;
  State state_ = State::kClosed;
  Endpoint local_, remote_;
  bool bound_ = false;
  // Listener.
  int backlog_ = 0;
  std::deque<std::shared_ptr<TcpEndpoint>> accept_queue_;
  std::weak_ptr<TcpEndpoint> listener_;  // a child until accepted
  size_t half_open_ = 0;
  // The TCB (RFC 9293 3.3.1).
  uint32_t iss_ = 0, snd_una_ = 0, snd_nxt_ = 0, irs_ = 0, rcv_nxt_ = 0;
  uint32_t snd_wnd_ = 0;
  uint8_t snd_shift_ = 0, rcv_shift_ = 0;
  uint16_t mss_ = 536;  // the peer's, RFC 9293 3.7.1's default
  std::deque<uint8_t> send_buffer_;       // from snd_una_: sent-unacknowledged, then unsent
  // Retransmission (RFC 6298): the timer's deadline (0: not armed), the
  // RTO, the smoothed RTT and its variation (ns), one RTT measurement at a
  // time (Karn: none over a retransmission), and the retries so far.
  int64_t rtx_deadline_ = 0;
  int64_t rto_ns_ = 1'000'000'000;  // TCP_TIMEOUT_INIT
  int64_t srtt_ns_ = 0, rttvar_ns_ = 0;
  bool rtt_timing_ = false;
  uint32_t rtt_seq_ = 0;
  int64_t rtt_start_ns_ = 0;
  int retries_ = 0;
  std::deque<uint8_t> receive_buffer_;
  std::map<uint32_t, std::vector<uint8_t>> out_of_order_;  // by sequence number
  bool fin_queued_ = false, fin_sent_ = false, fin_received_ = false;
  int error_ = 0;
  int64_t time_wait_since_ = 0;
  std::function<void()> on_event_;
};

}  // namespace runsc::netstack::inet
