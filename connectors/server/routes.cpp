#include "connectors/server/routes.hpp"

#include "connectors/webhooks/api_client.hpp"
#include "connectors/webhooks/clover.hpp"
#include "connectors/webhooks/lightspeed.hpp"
#include "connectors/webhooks/native.hpp"
#include "connectors/webhooks/shopify.hpp"
#include "connectors/webhooks/square.hpp"

namespace aisle::connectors::server {

namespace wh = webhooks;

namespace {

using AuthFn = wh::AuthResult (*)(const wh::Delivery&, const wh::PlatformConfig&);

// A platform's normalization result as a route's answer: upstream failures (the platform's API)
// are 503, everything else 400.
bool Answer(Result<wh::Normalized> result, wh::Normalized& out, RouteError& error) {
  if (result) {
    out = std::move(*result);
    return true;
  }
  error.kind = wh::FailureOf(result.error()) == wh::NormalizeFailure::kUpstream ? FailureKind::kUpstream
                                                                                : FailureKind::kMalformed;
  error.reason = result.error().message;
  return false;
}

Route Make(std::string path, std::string platform, const wh::PlatformConfig* config, AuthFn auth,
           std::function<Result<wh::Normalized>(const wh::Delivery&)> normalize) {
  Route r;
  r.path = std::move(path);
  r.platform = std::move(platform);
  r.authenticate = [config, auth](const wh::Delivery& d) { return auth(d, *config); };
  r.normalize = [normalize = std::move(normalize)](const wh::Delivery& d, wh::Normalized& out, RouteError& error) {
    return Answer(normalize(d), out, error);
  };
  return r;
}

std::unique_ptr<wh::ApiClient> ClientFor(const std::string& platform, const PlatformSettings& settings) {
  if (!settings.api) return nullptr;
  wh::ApiClientOptions options = platform == "square" ? wh::SquareApiOptions(settings.api->token)
                                                      : wh::CloverApiOptions(settings.api->token);
  options.base_url = settings.api->base_url;
  options.max_attempts = settings.api->max_attempts;
  options.read_timeout = std::chrono::milliseconds(settings.api->timeout_ms);
  return std::make_unique<wh::ApiClient>(std::move(options));
}

}  // namespace

struct RouteSet::Shared {
  ServeConfig config;
  wh::PlatformConfig clover_checkout;
  std::unique_ptr<wh::ApiClient> square_api, clover_api;
};

RouteSet::RouteSet(const ServeConfig& config) : shared_(std::make_unique<Shared>()) {
  Shared& s = *shared_;
  s.config = config;
  auto find = [&s](const char* name) -> const PlatformSettings* {
    const auto it = s.config.platforms.find(name);
    return it == s.config.platforms.end() ? nullptr : &it->second;
  };
  if (const PlatformSettings* p = find("shopify")) {
    const wh::PlatformConfig* c = &p->webhook;
    routes_.push_back(Make("/webhooks/shopify", "shopify", c, wh::AuthenticateShopify,
                           [c](const wh::Delivery& d) { return wh::NormalizeShopify(d, *c); }));
  }
  if (const PlatformSettings* p = find("square")) {
    const wh::PlatformConfig* c = &p->webhook;
    s.square_api = ClientFor("square", *p);
    wh::ObjectFetcher* api = s.square_api.get();
    routes_.push_back(Make("/webhooks/square", "square", c, wh::AuthenticateSquare,
                           [c, api](const wh::Delivery& d) { return wh::NormalizeSquare(d, *c, api); }));
    routes_.back().may_block = api != nullptr;
  }
  if (const PlatformSettings* p = find("lightspeed")) {
    const wh::PlatformConfig* c = &p->webhook;
    // One URL per webhook type (Lightspeed registers a URL per type), or one URL and the form's
    // `type` field.
    for (const char* path : {"/webhooks/lightspeed", "/webhooks/lightspeed/sale.update",
                             "/webhooks/lightspeed/inventory.update"}) {
      routes_.push_back(Make(path, "lightspeed", c, wh::AuthenticateLightspeed,
                             [c](const wh::Delivery& d) { return wh::NormalizeLightspeed(d, *c); }));
    }
  }
  if (const PlatformSettings* p = find("clover")) {
    const wh::PlatformConfig* c = &p->webhook;
    s.clover_api = ClientFor("clover", *p);
    wh::ObjectFetcher* api = s.clover_api.get();
    routes_.push_back(Make("/webhooks/clover", "clover", c, wh::AuthenticateClover,
                           [c, api](const wh::Delivery& d) { return wh::NormalizeClover(d, *c, api); }));
    routes_.back().may_block = api != nullptr;
    if (!p->checkout_secrets.empty()) {
      s.clover_checkout = p->webhook;
      s.clover_checkout.secrets = p->checkout_secrets;
      const wh::PlatformConfig* checkout = &s.clover_checkout;
      routes_.push_back(Make("/webhooks/clover/checkout", "clover", checkout, wh::AuthenticateCloverCheckout,
                             [checkout](const wh::Delivery& d) { return wh::NormalizeCloverCheckout(d, *checkout); }));
    }
  }
  if (const PlatformSettings* p = find("native")) {
    const wh::PlatformConfig* c = &p->webhook;
    for (const char* path : {"/events", "/traffic", "/shifts"}) {
      routes_.push_back(Make(path, "native", c, wh::AuthenticateNative,
                             [c](const wh::Delivery& d) { return wh::NormalizeNative(d, *c); }));
    }
  }
}

RouteSet::~RouteSet() = default;

}  // namespace aisle::connectors::server
