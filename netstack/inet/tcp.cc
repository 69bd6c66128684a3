#include "netstack/inet/tcp.h"

#include <sys/random.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "netstack/inet/stack.h"

namespace runsc::netstack::inet {
namespace {

// Sequence-number comparisons modulo 2^32 (RFC 9293 3.4).
bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
bool seq_le(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }

uint32_t random_iss() {
  uint32_t v = 0;
  (void)::getrandom(&v, sizeof(v), 0);
  return v;
}

using State = TcpEndpoint::State;

bool synchronized(State s) {
  return s != State::kClosed && s != State::kListen && s != State::kSynSent && s != State::kSynReceived;
}

}  // namespace

// --- The stack's side -------------------------------------------------

void Stack::tcp_send_locked(TcpEndpoint& e, uint8_t flags, uint32_t seq, std::span<const uint8_t> data,
                            Replies& replies) {
  auto route = route_locked(e.remote_.addr, e.local_.addr);
  if (!route) return;
  TcpSegment s;
  s.src_port = e.local_.port;
  s.dst_port = e.remote_.port;
  s.seq = seq;
  s.flags = flags;
  s.data = data;
  if (flags & kTcpAck) s.ack = e.rcv_nxt_;
  // The window we offer: the receive buffer's free room, scaled except on
  // a SYN (RFC 7323 2.2).
  const size_t room = TcpEndpoint::kReceiveBuffer - std::min(TcpEndpoint::kReceiveBuffer, e.receive_buffer_.size());
  const size_t shifted = (flags & kTcpSyn) ? room : room >> e.rcv_shift_;
  s.window = static_cast<uint16_t>(std::min<size_t>(shifted, 65535));
  if (flags & kTcpSyn) {
    const size_t overhead = e.v6_ ? 60 : 40;
    // An IPv4 packet is at most 65535 bytes whatever the link's MTU (lo's
    // is 65536), so lo's MSS is 65495 as on Linux.
    s.options.mss = static_cast<uint16_t>(std::min<size_t>(route->itf->link->mtu(), 65535) - overhead);
    // Offered on a SYN (rcv_shift_ set by connect), answered on a SYN-ACK
    // only if the peer offered it (rcv_shift_ 0 otherwise).
    if (e.rcv_shift_ != 0) s.options.window_scale = e.rcv_shift_;
  }
  replies.push_back(OutPacket{route->itf->link.get(),
                              ip_packet_locked(route->src, e.remote_.addr, kProtoTcp,
                                               build_tcp(s, route->src, e.remote_.addr)),
                              route->next_hop});
}

void Stack::tcp_output_locked(TcpEndpoint& e, Replies& replies) {
  if (!synchronized(e.state_)) return;  // nothing before the handshake completes
  // Unsent bytes start snd_nxt - snd_una into the buffer; send while the
  // peer's window has room, a segment at most an MSS.
  for (;;) {
    const size_t in_flight = e.snd_nxt_ - e.snd_una_ - (e.fin_sent_ ? 1 : 0);
    const size_t unsent = e.send_buffer_.size() - std::min(in_flight, e.send_buffer_.size());
    const size_t window_left = e.snd_wnd_ > in_flight ? e.snd_wnd_ - in_flight : 0;
    // At most the peer's MSS, and never more than an IP packet can hold
    // whatever MSS the peer claimed.
    const size_t n = std::min({unsent, window_left, static_cast<size_t>(e.mss_), size_t{65535 - 60}});
    if (n == 0 || e.fin_sent_) break;
    std::vector<uint8_t> chunk(e.send_buffer_.begin() + static_cast<long>(in_flight),
                               e.send_buffer_.begin() + static_cast<long>(in_flight + n));
    tcp_send_locked(e, kTcpAck | (n == unsent ? kTcpPsh : 0), e.snd_nxt_, chunk, replies);
    // Time one segment's round trip at a time (RFC 6298 3).
    if (!e.rtt_timing_) {
      e.rtt_timing_ = true;
      e.rtt_seq_ = e.snd_nxt_ + static_cast<uint32_t>(n);
      e.rtt_start_ns_ = clock_();
    }
    e.snd_nxt_ += static_cast<uint32_t>(n);
    tcp_arm_locked(e);
  }
  // The FIN goes once every byte before it was sent.
  const size_t in_flight = e.snd_nxt_ - e.snd_una_ - (e.fin_sent_ ? 1 : 0);
  if (e.fin_queued_ && !e.fin_sent_ && in_flight == e.send_buffer_.size()) {
    tcp_send_locked(e, kTcpFin | kTcpAck, e.snd_nxt_, {}, replies);
    e.snd_nxt_ += 1;
    e.fin_sent_ = true;
    tcp_arm_locked(e);
    if (e.state_ == State::kEstablished) e.state_ = State::kFinWait1;
    else if (e.state_ == State::kCloseWait) e.state_ = State::kLastAck;
  }
}

void Stack::tcp_set_closed_locked(TcpEndpoint& e, int error, Wakes& wake) {
  e.state_ = State::kClosed;
  if (error) e.error_ = error;
  e.send_buffer_.clear();
  tcp_connections_.erase(TcpKey{e.local_.addr, e.remote_.addr, e.local_.port, e.remote_.port});
  // (the endpoint may be gone now if only the table held it)
  if (e.on_event_) wake.push_back(e.on_event_);
}

void Stack::tcp_reset_for_locked(const InPacket& in, const TcpSegment& segment, Replies& replies) {
  // RFC 9293 3.10.7.1: to a segment with ACK, <SEQ=SEG.ACK><CTL=RST>;
  // otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and FIN
  // count in SEG.LEN). A reset is never answered.
  if (segment.flags & kTcpRst) return;
  if (in.dst.multicast() || (!in.dst.v6 && in.dst.v4() == 0xffffffffu)) return;
  TcpSegment rst;
  rst.src_port = segment.dst_port;
  rst.dst_port = segment.src_port;
  if (segment.flags & kTcpAck) {
    rst.seq = segment.ack;
    rst.flags = kTcpRst;
  } else {
    const uint32_t length = static_cast<uint32_t>(segment.data.size()) + ((segment.flags & kTcpSyn) ? 1 : 0) +
                            ((segment.flags & kTcpFin) ? 1 : 0);
    rst.ack = segment.seq + length;
    rst.flags = kTcpRst | kTcpAck;
  }
  auto route = route_locked(in.src, in.dst);
  if (!route) return;
  replies.push_back(OutPacket{route->itf->link.get(),
                              ip_packet_locked(in.dst, in.src, kProtoTcp, build_tcp(rst, in.dst, in.src)),
                              route->next_hop});
}

void Stack::tcp_expire_locked(int64_t now) {
  for (auto it = tcp_connections_.begin(); it != tcp_connections_.end();) {
    TcpEndpoint& e = *it->second;
    if (e.state_ == State::kTimeWait && now - e.time_wait_since_ >= TcpEndpoint::kTimeWaitNs) {
      e.state_ = State::kClosed;
      tcp_forget_locked(e);
      it = tcp_connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void Stack::handle_tcp_locked(const InPacket& in, Replies& replies, Wakes& wake) {
  auto segment = parse_tcp(in.payload, in.src, in.dst);
  if (!segment) {
    count(segment.error());
    return;
  }
  tcp_expire_locked(clock_());
  const TcpKey key{in.dst, in.src, segment->dst_port, segment->src_port};
  if (auto it = tcp_connections_.find(key); it != tcp_connections_.end()) {
    const std::shared_ptr<TcpEndpoint> e = it->second;
    tcp_input_locked(e, *segment, replies, wake);
    return;
  }
  // A listener on the port (bound to this address or any).
  TcpEndpoint* listener = nullptr;
  auto [first, last] = tcp_ports_.equal_range(segment->dst_port);
  for (auto it = first; it != last; ++it) {
    TcpEndpoint* e = it->second;
    if (e->state_ != State::kListen || e->v6_ != in.dst.v6) continue;
    if (!e->local_.addr.unspecified() && e->local_.addr != in.dst) continue;
    listener = e;
    if (!e->local_.addr.unspecified()) break;
  }
  const uint8_t f = segment->flags;
  if (listener == nullptr) {
    count(Drop::kNoTcpEndpoint);
    tcp_reset_for_locked(in, *segment, replies);
    return;
  }
  // A listener (RFC 9293 3.10.7.2, as Linux's tcp_rcv_state_process): an
  // ACK gets a reset; a reset, a SYN with FIN, or anything without SYN is
  // dropped.
  if (f & kTcpAck) {
    tcp_reset_for_locked(in, *segment, replies);
    return;
  }
  if ((f & kTcpRst) || !(f & kTcpSyn) || (f & kTcpFin)) {
    count(Drop::kBadTcpFlags);
    return;
  }
  // The backlog bounds connections being set up and waiting to be
  // accepted together (a SYN flood fills it, and further SYNs are
  // dropped, as Linux does without syncookies).
  if (listener->accept_queue_.size() + listener->half_open_ >= static_cast<size_t>(listener->backlog_)) {
    count(Drop::kListenOverflow);
    return;
  }
  auto child = std::shared_ptr<TcpEndpoint>(new TcpEndpoint(this, in.dst.v6));
  child->local_ = Endpoint{in.dst, segment->dst_port};
  child->remote_ = Endpoint{in.src, segment->src_port};
  child->state_ = State::kSynReceived;
  child->listener_ = listener->weak_from_this();
  child->irs_ = segment->seq;
  child->rcv_nxt_ = segment->seq + 1;
  child->iss_ = random_iss();
  child->snd_una_ = child->iss_;
  child->snd_nxt_ = child->iss_ + 1;
  if (segment->options.mss) child->mss_ = *segment->options.mss;
  // Window scaling only when both sides offer it (RFC 7323 2.2): the
  // SYN-ACK carries ours only in answer to the peer's.
  if (segment->options.window_scale) {
    child->snd_shift_ = *segment->options.window_scale;
    child->rcv_shift_ = TcpEndpoint::kWindowShift;
  }
  child->snd_wnd_ = segment->window;  // a SYN's window is never scaled
  listener->half_open_++;
  tcp_connections_[key] = child;
  tcp_send_locked(*child, kTcpSyn | kTcpAck, child->iss_, {}, replies);
  tcp_arm_locked(*child);
}

void Stack::tcp_input_locked(const std::shared_ptr<TcpEndpoint>& ep, const TcpSegment& s, Replies& replies,
                             Wakes& wake) {
  TcpEndpoint& e = *ep;
  const uint8_t f = s.flags;
  if (e.state_ == State::kSynSent) {
    // RFC 9293 3.10.7.3.
    if ((f & kTcpAck) && (seq_le(s.ack, e.iss_) || seq_lt(e.snd_nxt_, s.ack))) {
      if (!(f & kTcpRst)) tcp_send_locked(e, kTcpRst, s.ack, {}, replies);
      return;
    }
    if (f & kTcpRst) {
      if (f & kTcpAck) tcp_set_closed_locked(e, ECONNREFUSED, wake);
      return;
    }
    if (!(f & kTcpSyn)) return;
    e.irs_ = s.seq;
    e.rcv_nxt_ = s.seq + 1;
    if (s.options.mss) e.mss_ = *s.options.mss;
    if (s.options.window_scale) {
      e.snd_shift_ = *s.options.window_scale;
    } else {
      e.rcv_shift_ = 0;
    }
    if (f & kTcpAck) {
      tcp_acked_locked(e, s.ack);
      e.snd_wnd_ = s.window;
      e.state_ = State::kEstablished;
      tcp_send_locked(e, kTcpAck, e.snd_nxt_, {}, replies);
      tcp_output_locked(e, replies);
      if (e.on_event_) wake.push_back(e.on_event_);
    } else {
      // Simultaneous open (RFC 9293 3.5, figure 8).
      e.state_ = State::kSynReceived;
      tcp_send_locked(e, kTcpSyn | kTcpAck, e.iss_, {}, replies);
      tcp_arm_locked(e);
    }
    return;
  }

  // RFC 9293 3.10.7.4. First, is the segment acceptable?
  const uint32_t window = static_cast<uint32_t>(TcpEndpoint::kReceiveBuffer -
                                                std::min(TcpEndpoint::kReceiveBuffer, e.receive_buffer_.size()));
  const uint32_t len = static_cast<uint32_t>(s.data.size()) + ((f & kTcpSyn) ? 1 : 0) + ((f & kTcpFin) ? 1 : 0);
  bool acceptable;
  if (len == 0) {
    acceptable = window == 0 ? s.seq == e.rcv_nxt_ : (seq_le(e.rcv_nxt_, s.seq) && seq_lt(s.seq, e.rcv_nxt_ + window));
  } else {
    acceptable = window != 0 && ((seq_le(e.rcv_nxt_, s.seq) && seq_lt(s.seq, e.rcv_nxt_ + window)) ||
                                 (seq_le(e.rcv_nxt_, s.seq + len - 1) && seq_lt(s.seq + len - 1, e.rcv_nxt_ + window)));
  }
  if (!acceptable) {
    if (!(f & kTcpRst)) tcp_send_locked(e, kTcpAck, e.snd_nxt_, {}, replies);
    return;
  }
  if (f & kTcpRst) {
    // RFC 5961 3.2: only a reset exactly at RCV.NXT resets; another in
    // the window gets a challenge ACK.
    if (s.seq != e.rcv_nxt_) {
      tcp_send_locked(e, kTcpAck, e.snd_nxt_, {}, replies);
      return;
    }
    if (e.state_ == State::kSynReceived && !e.listener_.expired()) {
      if (auto l = e.listener_.lock()) l->half_open_--;
      tcp_set_closed_locked(e, 0, wake);
      return;
    }
    tcp_set_closed_locked(e, e.state_ == State::kSynReceived ? ECONNREFUSED : ECONNRESET, wake);
    return;
  }
  if (f & kTcpSyn) {
    // A SYN in the window of a synchronized connection: a challenge ACK
    // (RFC 5961 4.2).
    tcp_send_locked(e, kTcpAck, e.snd_nxt_, {}, replies);
    return;
  }
  if (!(f & kTcpAck)) return;
  if (e.state_ == State::kSynReceived) {
    if (!(seq_lt(e.snd_una_, s.ack) && seq_le(s.ack, e.snd_nxt_))) {
      tcp_send_locked(e, kTcpRst, s.ack, {}, replies);
      return;
    }
    e.state_ = State::kEstablished;
    tcp_acked_locked(e, s.ack);
    e.snd_wnd_ = static_cast<uint32_t>(s.window) << e.snd_shift_;
    if (auto l = e.listener_.lock()) {
      l->half_open_--;
      l->accept_queue_.push_back(ep);
      if (l->on_event_) wake.push_back(l->on_event_);
    }
  } else if (seq_lt(e.snd_una_, s.ack) && seq_le(s.ack, e.snd_nxt_)) {
    // New data acknowledged: drop it from the send buffer (the FIN's
    // sequence number is no byte of it).
    uint32_t acked = s.ack - e.snd_una_;
    if (e.fin_sent_ && s.ack == e.snd_nxt_) acked -= 1;
    const size_t drop = std::min<size_t>(acked, e.send_buffer_.size());
    e.send_buffer_.erase(e.send_buffer_.begin(), e.send_buffer_.begin() + static_cast<long>(drop));
    tcp_acked_locked(e, s.ack);
    if (e.on_event_) wake.push_back(e.on_event_);
  } else if (seq_lt(e.snd_nxt_, s.ack)) {
    // An ACK for something not yet sent: ACK and drop it.
    tcp_send_locked(e, kTcpAck, e.snd_nxt_, {}, replies);
    return;
  }
  if (seq_le(e.snd_una_, s.ack)) e.snd_wnd_ = static_cast<uint32_t>(s.window) << e.snd_shift_;
  const bool fin_acked = e.fin_sent_ && e.snd_una_ == e.snd_nxt_;
  if (e.state_ == State::kFinWait1 && fin_acked) e.state_ = State::kFinWait2;
  if (e.state_ == State::kClosing && fin_acked) {
    e.state_ = State::kTimeWait;
    e.time_wait_since_ = clock_();
  }
  if (e.state_ == State::kLastAck && fin_acked) {
    tcp_set_closed_locked(e, 0, wake);
    tcp_forget_locked(e);
    return;
  }

  // The data: in order, straight to the receive buffer; ahead of it,
  // kept until the gap is filled.
  bool advanced = false;
  if (!s.data.empty() && (e.state_ == State::kEstablished || e.state_ == State::kFinWait1 ||
                          e.state_ == State::kFinWait2)) {
    uint32_t seq = s.seq;
    std::span<const uint8_t> data = s.data;
    if (seq_lt(seq, e.rcv_nxt_)) {  // the start was had already
      const uint32_t skip = e.rcv_nxt_ - seq;
      data = data.subspan(std::min<size_t>(skip, data.size()));
      seq = e.rcv_nxt_;
    }
    if (seq == e.rcv_nxt_) {
      const size_t take = std::min<size_t>(data.size(), window);
      e.receive_buffer_.insert(e.receive_buffer_.end(), data.begin(), data.begin() + static_cast<long>(take));
      e.rcv_nxt_ += static_cast<uint32_t>(take);
      advanced = take > 0;
      // What was waiting may fit now.
      for (auto it = e.out_of_order_.begin(); it != e.out_of_order_.end();) {
        if (seq_lt(e.rcv_nxt_, it->first)) break;
        const uint32_t skip = e.rcv_nxt_ - it->first;
        if (skip < it->second.size()) {
          e.receive_buffer_.insert(e.receive_buffer_.end(), it->second.begin() + skip, it->second.end());
          e.rcv_nxt_ += static_cast<uint32_t>(it->second.size() - skip);
        }
        it = e.out_of_order_.erase(it);
      }
    } else if (!data.empty()) {
      e.out_of_order_[seq].assign(data.begin(), data.end());
    }
  }
  // The FIN, once everything before it is in.
  if ((f & kTcpFin) && s.seq + static_cast<uint32_t>(s.data.size()) == e.rcv_nxt_ && !e.fin_received_) {
    e.fin_received_ = true;
    e.rcv_nxt_ += 1;
    advanced = true;
    switch (e.state_) {
      case State::kEstablished: e.state_ = State::kCloseWait; break;
      case State::kFinWait1:
        // Both closing at once (RFC 9293 figure 13), unless ours was
        // acknowledged with it.
        if (fin_acked) {
          e.state_ = State::kTimeWait;
          e.time_wait_since_ = clock_();
        } else {
          e.state_ = State::kClosing;
        }
        break;
      case State::kFinWait2:
        e.state_ = State::kTimeWait;
        e.time_wait_since_ = clock_();
        break;
      default: break;
    }
  }
  if (advanced || !s.data.empty()) {
    tcp_send_locked(e, kTcpAck, e.snd_nxt_, {}, replies);
    if (e.on_event_) wake.push_back(e.on_event_);
  }
  tcp_output_locked(e, replies);
}

void Stack::tcp_arm_locked(TcpEndpoint& e) {
  if (e.rtx_deadline_ == 0) e.rtx_deadline_ = clock_() + e.rto_ns_;
}

// SND.UNA moves to `ack`: an RTT sample if the timed segment is covered,
// and the timer restarted for what is still outstanding, or stopped
// (RFC 6298 5.2, 5.3).
void Stack::tcp_acked_locked(TcpEndpoint& e, uint32_t ack) {
  const int64_t now = clock_();
  if (e.rtt_timing_ && seq_le(e.rtt_seq_, ack)) {
    const int64_t r = std::max<int64_t>(now - e.rtt_start_ns_, 1);
    if (e.srtt_ns_ == 0) {
      e.srtt_ns_ = r;
      e.rttvar_ns_ = r / 2;
    } else {
      e.rttvar_ns_ = (3 * e.rttvar_ns_ + std::abs(e.srtt_ns_ - r)) / 4;
      e.srtt_ns_ = (7 * e.srtt_ns_ + r) / 8;
    }
    e.rto_ns_ = std::clamp(e.srtt_ns_ + std::max<int64_t>(1'000'000, 4 * e.rttvar_ns_), TcpEndpoint::kMinRtoNs,
                           TcpEndpoint::kMaxRtoNs);
    e.rtt_timing_ = false;
  }
  e.snd_una_ = ack;
  e.retries_ = 0;
  e.rtx_deadline_ = e.snd_una_ == e.snd_nxt_ ? 0 : now + e.rto_ns_;
}

// The retransmission timer expired (RFC 6298 5.4-5.6): the earliest
// unacknowledged segment again, the RTO doubled, and the connection given
// up (ETIMEDOUT) after Linux's retry counts.
void Stack::tcp_timeout_locked(const std::shared_ptr<TcpEndpoint>& ep, int64_t now, Replies& replies, Wakes& wake) {
  TcpEndpoint& e = *ep;
  if (e.rtx_deadline_ == 0 || now < e.rtx_deadline_) return;
  const bool handshake = e.state_ == State::kSynSent || e.state_ == State::kSynReceived;
  if (++e.retries_ > (handshake ? TcpEndpoint::kSynRetries : TcpEndpoint::kRetries)) {
    if (e.state_ == State::kSynReceived) {
      if (auto l = e.listener_.lock()) l->half_open_--;
    }
    tcp_set_closed_locked(e, ETIMEDOUT, wake);
    tcp_forget_locked(e);
    return;
  }
  e.rtt_timing_ = false;  // Karn: no sample over a retransmission
  e.rto_ns_ = std::min(e.rto_ns_ * 2, TcpEndpoint::kMaxRtoNs);
  e.rtx_deadline_ = now + e.rto_ns_;
  if (e.state_ == State::kSynSent) {
    tcp_send_locked(e, kTcpSyn, e.iss_, {}, replies);
  } else if (e.state_ == State::kSynReceived) {
    tcp_send_locked(e, kTcpSyn | kTcpAck, e.iss_, {}, replies);
  } else if (!e.send_buffer_.empty()) {
    const size_t n = std::min({e.send_buffer_.size(), static_cast<size_t>(e.mss_), size_t{65535 - 60}});
    std::vector<uint8_t> chunk(e.send_buffer_.begin(), e.send_buffer_.begin() + static_cast<long>(n));
    tcp_send_locked(e, kTcpAck | kTcpPsh, e.snd_una_, chunk, replies);
  } else if (e.fin_sent_) {
    tcp_send_locked(e, kTcpFin | kTcpAck, e.snd_nxt_ - 1, {}, replies);
  } else {
    e.rtx_deadline_ = 0;  // nothing outstanding after all
  }
}

void Stack::tick() {
  Replies replies;
  Wakes wake;
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_();
    tcp_expire_locked(now);
    std::vector<std::shared_ptr<TcpEndpoint>> connections;
    for (auto& [key, e] : tcp_connections_) connections.push_back(e);
    for (auto& e : connections) tcp_timeout_locked(e, now, replies, wake);
  }
  for (auto& fn : wake) fn();
  for (auto& out : replies) (void)send_out(std::move(out));
}

std::shared_ptr<TcpEndpoint> Stack::open_tcp(bool v6) { return std::shared_ptr<TcpEndpoint>(new TcpEndpoint(this, v6)); }

// --- The endpoint's side ----------------------------------------------

void TcpEndpoint::set_on_event(std::function<void()> fn) {
  std::lock_guard lock(stack_->mu_);
  on_event_ = std::move(fn);
}

Result<void> TcpEndpoint::bind(Endpoint local) {
  std::lock_guard lock(stack_->mu_);
  return stack_->tcp_bind_locked(*this, local);
}

Result<void> TcpEndpoint::listen(int backlog) {
  std::lock_guard lock(stack_->mu_);
  if (state_ != State::kClosed && state_ != State::kListen) return Err(EINVAL);
  if (!bound_) {
    if (auto r = stack_->tcp_bind_locked(*this, Endpoint{IpAddress::any(v6_), 0}); !r) return r;
  }
  // Linux: the backlog is capped by net.core.somaxconn (4096) and at least 1.
  backlog_ = std::clamp(backlog, 1, 4096);
  state_ = State::kListen;
  return {};
}

Result<std::shared_ptr<TcpEndpoint>> TcpEndpoint::accept() {
  std::lock_guard lock(stack_->mu_);
  if (state_ != State::kListen) return Err(EINVAL);
  if (accept_queue_.empty()) return Err(EAGAIN);
  auto c = std::move(accept_queue_.front());
  accept_queue_.pop_front();
  c->listener_.reset();
  return c;
}

Result<void> TcpEndpoint::connect(Endpoint remote) {
  if (remote.addr.v6 != v6_) return Err(EAFNOSUPPORT);
  Stack::Replies replies;
  {
    std::lock_guard lock(stack_->mu_);
    if (state_ == State::kListen) return Err(EINVAL);
    if (state_ == State::kSynSent) return Err(EALREADY);
    if (state_ != State::kClosed) return Err(EISCONN);
    auto route = stack_->route_locked(remote.addr, local_.addr);
    if (!route) return Err(route.error());
    if (!bound_) {
      if (auto r = stack_->tcp_bind_locked(*this, Endpoint{IpAddress::any(v6_), 0}); !r) return r;
    }
    if (local_.addr.unspecified()) local_.addr = route->src;
    remote_ = remote;
    iss_ = random_iss();
    snd_una_ = iss_;
    snd_nxt_ = iss_ + 1;
    rcv_shift_ = kWindowShift;
    state_ = State::kSynSent;
    stack_->tcp_connections_[Stack::TcpKey{local_.addr, remote_.addr, local_.port, remote_.port}] = shared_from_this();
    stack_->tcp_send_locked(*this, kTcpSyn, iss_, {}, replies);
    stack_->tcp_arm_locked(*this);
  }
  for (auto& out : replies) (void)stack_->send_out(std::move(out));
  return {};
}

Result<size_t> TcpEndpoint::send(std::span<const uint8_t> data) {
  Stack::Replies replies;
  size_t n;
  {
    std::lock_guard lock(stack_->mu_);
    if (error_) return Err(std::exchange(error_, 0));
    if (fin_queued_) return Err(EPIPE);
    if (state_ != State::kEstablished && state_ != State::kCloseWait) {
      return Err(state_ == State::kSynSent || state_ == State::kSynReceived ? EAGAIN : ENOTCONN);
    }
    n = std::min(data.size(), kSendBuffer - std::min(kSendBuffer, send_buffer_.size()));
    if (n == 0 && !data.empty()) return Err(EAGAIN);
    send_buffer_.insert(send_buffer_.end(), data.begin(), data.begin() + static_cast<long>(n));
    stack_->tcp_output_locked(*this, replies);
  }
  for (auto& out : replies) (void)stack_->send_out(std::move(out));
  return n;
}

Result<size_t> TcpEndpoint::receive(std::span<uint8_t> out) {
  Stack::Replies replies;
  size_t n;
  {
    std::lock_guard lock(stack_->mu_);
    if (receive_buffer_.empty()) {
      if (fin_received_) return 0;
      if (error_) return Err(std::exchange(error_, 0));
      if (state_ == State::kClosed) return 0;
      return Err(EAGAIN);
    }
    const bool was_full = receive_buffer_.size() >= kReceiveBuffer;
    n = std::min(out.size(), receive_buffer_.size());
    std::copy(receive_buffer_.begin(), receive_buffer_.begin() + static_cast<long>(n), out.begin());
    receive_buffer_.erase(receive_buffer_.begin(), receive_buffer_.begin() + static_cast<long>(n));
    // A window that had closed opens again: say so (RFC 9293 3.8.6.2.2).
    if (was_full && synchronized(state_)) stack_->tcp_send_locked(*this, kTcpAck, snd_nxt_, {}, replies);
  }
  for (auto& o : replies) (void)stack_->send_out(std::move(o));
  return n;
}

Result<void> TcpEndpoint::shutdown_write() {
  Stack::Replies replies;
  {
    std::lock_guard lock(stack_->mu_);
    if (!synchronized(state_)) return Err(ENOTCONN);
    fin_queued_ = true;
    stack_->tcp_output_locked(*this, replies);
  }
  for (auto& out : replies) (void)stack_->send_out(std::move(out));
  return {};
}

void TcpEndpoint::close() {
  Stack::Replies replies;
  Stack::Wakes wake;
  {
    std::lock_guard lock(stack_->mu_);
    if (state_ == State::kListen) {
      for (auto& c : accept_queue_) {
        stack_->tcp_send_locked(*c, kTcpRst | kTcpAck, c->snd_nxt_, {}, replies);
        stack_->tcp_set_closed_locked(*c, 0, wake);
      }
      accept_queue_.clear();
      state_ = State::kClosed;
      stack_->tcp_forget_locked(*this);
    } else if (synchronized(state_) && !receive_buffer_.empty()) {
      // Unread data: a reset, not a FIN (Linux's tcp_close, RFC 2525 2.17).
      stack_->tcp_send_locked(*this, kTcpRst | kTcpAck, snd_nxt_, {}, replies);
      stack_->tcp_set_closed_locked(*this, 0, wake);
      stack_->tcp_forget_locked(*this);
    } else if (state_ == State::kEstablished || state_ == State::kCloseWait) {
      fin_queued_ = true;
      stack_->tcp_output_locked(*this, replies);
    } else if (state_ == State::kSynSent || state_ == State::kClosed) {
      stack_->tcp_set_closed_locked(*this, 0, wake);
      stack_->tcp_forget_locked(*this);
    }
  }
  for (auto& out : replies) (void)stack_->send_out(std::move(out));
}

TcpEndpoint::State TcpEndpoint::state() const {
  std::lock_guard lock(stack_->mu_);
  return state_;
}

int TcpEndpoint::take_error() {
  std::lock_guard lock(stack_->mu_);
  return std::exchange(error_, 0);
}

Endpoint TcpEndpoint::local() const {
  std::lock_guard lock(stack_->mu_);
  return local_;
}

Endpoint TcpEndpoint::remote() const {
  std::lock_guard lock(stack_->mu_);
  return remote_;
}

TcpEndpoint::~TcpEndpoint() {
  std::lock_guard lock(stack_->mu_);
  stack_->tcp_forget_locked(*this);
}

}  // namespace runsc::netstack::inet
