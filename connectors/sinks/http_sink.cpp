#include "connectors/sinks/http_sink.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace aisle::connectors {

namespace {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t UnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "https://host:8443/a/b?c" -> origin "https://host:8443", path "/a/b?c".
bool SplitUrl(const std::string& url, std::string& origin, std::string& path) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  const size_t host_start = scheme_end + 3;
  const size_t slash = url.find('/', host_start);
  const size_t host_end = slash == std::string::npos ? url.size() : slash;
  if (host_end == host_start) return false;
  origin = url.substr(0, host_end);
  path = slash == std::string::npos ? "/" : url.substr(slash);
  return true;
}

// The first bytes of a reply's body, on one line, for an error message.
std::string Snippet(const std::string& body) {
  constexpr size_t kMax = 200;
  std::string out = body.substr(0, kMax);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace

HttpSink::HttpSink(HttpSinkOptions options, std::unique_ptr<Outbox> outbox, std::string origin, std::string path)
    : options_(std::move(options)), outbox_(std::move(outbox)), origin_(std::move(origin)), path_(std::move(path)) {
  rng_.seed(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device()());
}

Result<std::unique_ptr<HttpSink>> HttpSink::Open(HttpSinkOptions options, const std::string& outbox_dir) {
  std::string origin, path;
  if (!SplitUrl(options.url, origin, path))
    return Error{"sink " + options.name + ": url must start with http:// or https:// and name a host"};
  if (options.max_attempts < 1) return Error{"sink " + options.name + ": max_attempts must be at least 1"};
  if (options.burst < 1) return Error{"sink " + options.name + ": burst must be at least 1"};
  if (options.rate_per_second < 0 || !std::isfinite(options.rate_per_second))
    return Error{"sink " + options.name + ": rate_per_second must be 0 (unlimited) or more"};
  auto outbox = Outbox::Open(outbox_dir);
  if (!outbox) return outbox.error();
  std::unique_ptr<HttpSink> sink(
      new HttpSink(std::move(options), std::move(outbox).value(), std::move(origin), std::move(path)));
  sink->thread_ = std::thread([s = sink.get()] { s->Run(); });
  return sink;
}

HttpSink::~HttpSink() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HttpSink::Emit(const engine::Emission& emission) {
  std::string body = HttpBody(emission, options_.format);
  {
    std::lock_guard<std::mutex> lock(emit_mutex_);
    // Once an append failed, later ones queue behind it, so the outbox keeps emission order.
    if (!unwritten_.empty()) {
      unwritten_.emplace_back(emission.id, std::move(body));
      return;
    }
    auto appended = outbox_->Append(emission.id, body);
    if (!appended) {
      emit_error_ = appended.error().message;
      unwritten_.emplace_back(emission.id, std::move(body));
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++appended_;
  }
  wake_.notify_all();
}

bool HttpSink::Flush(std::string& error) {
  std::lock_guard<std::mutex> lock(emit_mutex_);
  size_t written = 0;
  for (; written < unwritten_.size(); ++written) {
    auto appended = outbox_->Append(unwritten_[written].first, unwritten_[written].second);
    if (!appended) {
      emit_error_ = appended.error().message;
      break;
    }
  }
  unwritten_.erase(unwritten_.begin(), unwritten_.begin() + static_cast<std::ptrdiff_t>(written));
  if (written > 0) {
    {
      std::lock_guard<std::mutex> wake_lock(mutex_);
      ++appended_;
    }
    wake_.notify_all();
  }
  if (!unwritten_.empty()) {
    error = "sink " + options_.name + ": " + emit_error_;
    return false;
  }
  Status s = outbox_->Sync();
  if (!s) {
    error = "sink " + options_.name + ": " + s.message();
    return false;
  }
  return true;
}

std::string HttpSink::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

void HttpSink::SetError(std::string error) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_error_ = std::move(error);
}

bool HttpSink::stopping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_;
}

bool HttpSink::Sleep(int64_t micros) {
  if (micros <= 0) return !stopping();
  if (options_.sleep_us) {
    options_.sleep_us(micros);
    return !stopping();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, std::chrono::microseconds(micros), [this] { return stop_; });
  return !stop_;
}

// A token bucket of `burst` tokens refilled at `rate_per_second`, kept as GCRA's theoretical
// arrival time in integer microseconds, so waits add up exactly.
bool HttpSink::TakeToken() {
  if (options_.rate_per_second <= 0) return true;
  const int64_t interval = std::max<int64_t>(1, std::llround(1e6 / options_.rate_per_second));
  const int64_t tolerance = static_cast<int64_t>(options_.burst - 1) * interval;
  auto now = [this] { return options_.now_us ? options_.now_us() : SteadyMicros(); };
  int64_t t = now();
  if (!rate_started_) {
    next_allowed_us_ = t;
    rate_started_ = true;
  }
  while (next_allowed_us_ - tolerance > t) {
    if (!Sleep(next_allowed_us_ - tolerance - t)) return false;
    t = now();
  }
  next_allowed_us_ = std::max(next_allowed_us_, t) + interval;
  return true;
}

// Exponential backoff with "equal jitter": half the step for sure, the other half at random, so
// retries spread out but never come sooner than half the step.
int64_t HttpSink::BackoffMicros(uint32_t attempts) {
  const int64_t cap = std::max<int64_t>(1, options_.max_backoff_ms) * 1000;
  int64_t step = std::max<int64_t>(1, options_.backoff_ms) * 1000;
  for (uint32_t i = 1; i < attempts && step < cap; ++i) step *= 2;
  step = std::min(step, cap);
  std::uniform_int_distribution<int64_t> half(0, step / 2);
  return step - step / 2 + half(rng_);
}

void HttpSink::Run() {
  httplib::Client client(origin_);
  const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  while (!stopping()) {
    uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      seen = appended_;
    }
    auto next = outbox_->Next(cursor_);
    if (!next) {
      SetError("sink " + options_.name + ": " + next.error().message);
      if (!Sleep(BackoffMicros(1))) break;
      continue;
    }
    if (!next->has_value()) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || appended_ != seen; });
      continue;
    }
    if (!TakeToken()) break;
    Deliver(client, std::move(**next));
  }
}

void HttpSink::Deliver(httplib::Client& client, OutboxEntry entry) {
  httplib::Headers headers;
  for (const auto& [name, value] : options_.headers) headers.emplace(name, value);
  headers.emplace("Idempotency-Key", entry.id);
  const auto reply = client.Post(path_, headers, entry.body, "application/json");
  std::string failure;
  std::optional<int64_t> retry_after;
  bool permanent = false;
  if (!reply) {
    failure = "no reply: " + httplib::to_string(reply.error());
  } else {
    const int status = reply->status;
    if (status >= 200 && status < 300) {
      Status s = outbox_->Delivered(entry.sequence);
      // Not deleted: a restart delivers it again, with the same Idempotency-Key.
      if (!s) SetError("sink " + options_.name + ": " + s.message());
      cursor_ = entry.sequence;
      ++delivered_;
      return;
    }
    failure = fmt::format("HTTP {}", status);
    if (!reply->body.empty()) failure += ": " + Snippet(reply->body);
    permanent = status >= 400 && status < 500 && status != 408 && status != 429;
    if (reply->has_header("Retry-After"))
      retry_after = ParseRetryAfter(reply->get_header_value("Retry-After"), UnixMicros());
  }
  ++failed_attempts_;
  ++entry.attempts;
  entry.last_error = failure;
  SetError("sink " + options_.name + ": emission " + entry.id + ": " + failure);
  if (permanent || entry.attempts >= static_cast<uint32_t>(options_.max_attempts)) {
    const std::string reason =
        permanent ? failure : fmt::format("{} attempts, last: {}", entry.attempts, failure);
    Status s = outbox_->MoveToDeadLetters(entry, reason, UnixMicros());
    if (!s) {
      SetError("sink " + options_.name + ": " + s.message());
      (void)Sleep(BackoffMicros(1));
      return;
    }
    cursor_ = entry.sequence;
    ++dead_lettered_;
    return;
  }
  Status s = outbox_->RecordFailure(entry);
  if (!s) SetError("sink " + options_.name + ": " + s.message());
  const int64_t wait = retry_after ? std::min(*retry_after, options_.max_retry_after_ms * 1000)
                                   : BackoffMicros(entry.attempts);
  (void)Sleep(wait);
}

}  // namespace aisle::connectors
