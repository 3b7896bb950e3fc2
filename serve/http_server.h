#pragma once
// HTTP for the teacher server: routes POST /v1/classify, GET /v1/info and
// GET /healthz to a ClassifyService on cpp-httplib's thread pool, and logs
// what never reaches them (unknown paths, bodies over the limit, which
// httplib refuses with 413 before reading them). No LibTorch, no Qt.
#include "core/base/stop_token.h"
#include "core/serve/classify_service.h"

#include <functional>
#include <string>

namespace distillery {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080; // 0: any free port (the bound one is passed to on_listening)
  int threads = 8;
  int64_t max_body_bytes = 16 << 20;
};

// Binds, calls on_listening(port), then serves until `stop` is requested
// (polled every 50 ms; requests in progress finish). Throws std::runtime_error
// when the address cannot be bound.
void runHttpServer(ClassifyService& service, const HttpServerOptions& options, StopToken& stop,
                   const std::function<void(int port)>& on_listening);

} // namespace distillery
