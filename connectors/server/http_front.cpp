#include "connectors/server/http_front.hpp"

#include <utility>  // Boost 1.74's Asio uses std::exchange without including it

#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

namespace aisle::connectors::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr auto kWriteTimeout = std::chrono::seconds(30);
// How long Stop waits for answers in flight before it closes what is left.
constexpr auto kStopGrace = std::chrono::seconds(30);

}  // namespace

class HttpSession;

struct HttpFront::Impl {
  HttpFrontOptions options;
  Handler handler;
  // One event loop per thread, each running on exactly one thread: a connection lives on one
  // loop, so its handlers never overlap and need no strand (strands cost a third of the
  // throughput on 2 cores). The acceptor is on the first loop.
  std::vector<std::unique_ptr<asio::io_context>> loops;
  size_t next_loop = 0;  // accept handler only
  std::optional<tcp::acceptor> acceptor;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<asio::thread_pool> blocking;
  std::vector<std::thread> threads;
  int port = 0;
  std::weak_ptr<Impl> self;  // what sessions hold on to
  std::atomic<bool> stopping{false};

  std::mutex mutex;  // guards sessions and stopped
  std::condition_variable sessions_gone;
  std::unordered_set<HttpSession*> sessions;
  bool started = false;
  bool stopped = false;

  void Accept();
};

// One connection, on one event loop (one thread runs its handlers); `busy` is true from a complete request until
// its answer is written, and Stop leaves such a connection to finish.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<HttpFront::Impl> front)
      : stream_(std::move(socket)), front_(std::move(front)) {}

  ~HttpSession() {
    std::lock_guard<std::mutex> lock(front_->mutex);
    front_->sessions.erase(this);
    if (front_->sessions.empty()) front_->sessions_gone.notify_all();
  }

  void Start() {
    {
      std::lock_guard<std::mutex> lock(front_->mutex);
      if (front_->stopped) return;
      front_->sessions.insert(this);
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // From Stop, on any thread: a connection waiting for a request is closed.
  void CloseIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->Close();
    });
  }

 private:
  void Read() {
    if (front_->stopping.load()) return Close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(static_cast<uint64_t>(front_->options.max_body_bytes));
    stream_.expires_after(std::chrono::seconds(front_->options.idle_timeout_seconds));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    const auto length = parser_->content_length();
    if (length && *length > static_cast<uint64_t>(front_->options.max_body_bytes)) {
      return Refuse(413, R"({"error":"payload_too_large"})");
    }
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, header.version());
      return http::async_write(stream_, *continue_, [self = shared_from_this()](beast::error_code e, size_t) {
        if (e) return self->Close();
        self->ReadBody();
      });
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) return Refuse(413, R"({"error":"payload_too_large"})");
    if (ec == http::error::header_limit) return Refuse(431, R"({"error":"headers_too_large"})");
    // A clean hang-up, a timeout or a reset: nothing to answer. A malformed request: say so.
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec.category() != http::make_error_code(http::error::bad_target).category()) {
      return Close();
    }
    return Refuse(400, R"({"error":"bad_request"})");
  }

  void OnRequest(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    HttpRequest request;
    request.method = std::string(message.method_string());
    const beast::string_view target = message.target();
    request.path = std::string(target.substr(0, target.find('?')));
    request.headers.reserve(16);
    for (const auto& field : message) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    busy_ = true;
    stream_.expires_never();
    auto self = shared_from_this();
    Respond respond = [self](HttpResponse response) {
      asio::dispatch(self->stream_.get_executor(),
                     [self, response = std::move(response)]() mutable { self->Write(std::move(response)); });
    };
    front_->handler(std::move(request), std::move(respond));
  }

  // Answers a request whose body was not read, then closes the connection (after reading what the
  // client still sends, so that the close does not reset the connection before it reads the
  // answer).
  void Refuse(int status, std::string body) {
    keep_alive_ = false;
    linger_ = true;
    if (parser_) version_ = parser_->get().version();
    busy_ = true;
    HttpResponse response;
    response.status = status;
    response.body = std::move(body) + "\n";
    Write(std::move(response));
  }

  void Write(HttpResponse answer) {
    response_.emplace(static_cast<http::status>(answer.status), version_ == 0 ? 11 : version_);
    response_->set(http::field::content_type, answer.content_type);
    for (auto& [name, value] : answer.headers) response_->set(name, value);
    response_->body() = std::move(answer.body);
    response_->keep_alive(keep_alive_ && !front_->stopping.load());
    response_->prepare_payload();
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->busy_ = false;
      const bool keep = !ec && self->response_->keep_alive();
      self->response_.reset();
      if (!ec && self->linger_) return self->Linger();
      if (!keep) return self->Close();
      self->Read();
    });
  }

  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    discard_.resize(16 * 1024);
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->Linger();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<HttpFront::Impl> front_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> response_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool linger_ = false;
  std::string discard_;
};

void HttpFront::Impl::Accept() {
  asio::io_context& loop = *loops[next_loop];
  next_loop = (next_loop + 1) % loops.size();
  acceptor->async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      // Without TCP_NODELAY an answer written in two segments waits for the client's delayed ACK.
      socket.set_option(tcp::no_delay(true), ignored);
      // `this` outlives every session: Stop waits for them, and the owner holds the Impl.
      std::make_shared<HttpSession>(std::move(socket), self.lock())->Start();
    }
    Accept();
  });
}

HttpFront::HttpFront(HttpFrontOptions options, Handler handler) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpFront::~HttpFront() { Stop(); }

int HttpFront::port() const { return impl_->port; }

Status HttpFront::Start() {
  Impl& f = *impl_;
  f.self = impl_;
  beast::error_code ec;
  const auto address = asio::ip::make_address(f.options.host == "localhost" ? "127.0.0.1" : f.options.host, ec);
  if (ec) return Error{fmt::format("cannot listen on '{}': not an IP address", f.options.host)};
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(f.options.port));
  const int threads = std::max(1, f.options.threads);
  for (int i = 0; i < threads; ++i) f.loops.push_back(std::make_unique<asio::io_context>(1));
  f.acceptor.emplace(*f.loops[0]);
  f.acceptor->open(endpoint.protocol(), ec);
  if (!ec) f.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) f.acceptor->bind(endpoint, ec);
  if (!ec) f.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{fmt::format("cannot listen on {}:{}: {}", f.options.host, f.options.port, ec.message())};
  f.port = f.acceptor->local_endpoint().port();
  for (auto& loop : f.loops) f.work.push_back(asio::make_work_guard(*loop));
  f.blocking.emplace(static_cast<size_t>(std::max(1, f.options.blocking_threads)));
  f.Accept();
  for (auto& loop : f.loops) {
    f.threads.emplace_back([&loop = *loop] {
      pthread_setname_np(pthread_self(), "aisle-http");  // in top -H and profiles
      loop.run();
    });
  }
  std::lock_guard<std::mutex> lock(f.mutex);
  f.started = true;
  return Status::Ok();
}

void HttpFront::Post(std::function<void()> job) {
  asio::post(*impl_->blocking, std::move(job));
}

void HttpFront::Stop() {
  Impl& f = *impl_;
  {
    std::lock_guard<std::mutex> lock(f.mutex);
    if (f.stopped || !f.started) {
      f.stopped = true;
      return;
    }
  }
  f.stopping = true;
  asio::post(*f.loops[0], [&f] {
    beast::error_code ignored;
    f.acceptor->close(ignored);
  });
  {
    std::unique_lock<std::mutex> lock(f.mutex);
    f.stopped = true;  // no session starts from here on
    std::vector<std::shared_ptr<HttpSession>> idle;
    for (HttpSession* s : f.sessions) {
      if (auto alive = s->weak_from_this().lock()) idle.push_back(std::move(alive));
    }
    lock.unlock();
    for (auto& s : idle) s->CloseIfIdle();
    idle.clear();
    lock.lock();
    f.sessions_gone.wait_for(lock, kStopGrace, [&f] { return f.sessions.empty(); });
  }
  f.work.clear();
  if (f.blocking) f.blocking->join();
  for (auto& loop : f.loops) loop->stop();
  for (auto& t : f.threads) t.join();
  f.threads.clear();
}

}  // namespace aisle::connectors::server
