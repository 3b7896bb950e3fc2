#include "serve/http_server.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace distillery {

namespace {

// Set by the endpoint handlers, read by the logger that httplib calls after
// every reply on the same worker thread: what no handler saw is logged there.
thread_local bool t_handled = false;

ServeRequest meta(const httplib::Request& req) {
  ServeRequest r{req.method, req.path, req.remote_addr, req.get_header_value("Authorization"), std::nullopt};
  if (req.has_header("Idempotency-Key")) r.idempotency_key = req.get_header_value("Idempotency-Key");
  return r;
}

void send(const ServeReply& reply, httplib::Response& res) {
  res.status = reply.status;
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  res.set_content(reply.body, "application/json");
}

// The HTTP boundary: a failure of the log or the service is a 500 with a message, never a dead worker.
template <typename F> httplib::Server::Handler endpoint(F f) {
  return [f](const httplib::Request& req, httplib::Response& res) {
    t_handled = true;
    try {
      send(f(req), res);
    } catch (const std::exception& e) {
      send({500, nlohmann::json{{"error", {{"status", 500}, {"message", e.what()}}}}.dump(), {}}, res);
    }
  };
}

} // namespace

void runHttpServer(ClassifyService& service, const HttpServerOptions& options, StopToken& stop,
                   const std::function<void(int)>& on_listening) {
  httplib::Server server;
  const int threads = options.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  server.set_payload_max_length(size_t(options.max_body_bytes));
  // Replies go out as headers then body; with Nagle's algorithm a keep-alive
  // client waits for the delayed ACK (~40 ms) between them.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000);
  server.Post("/v1/classify", endpoint([&](const httplib::Request& req) { return service.classify(meta(req), req.body); }));
  server.Get("/v1/info", endpoint([&](const httplib::Request& req) { return service.info(meta(req)); }));
  server.Get("/healthz", endpoint([&](const httplib::Request& req) { return service.health(meta(req)); }));
  // A known path with another method is a 405 naming the one it serves, not a 404.
  const auto wrong = [&](const std::string& allow) {
    return endpoint([&service, allow](const httplib::Request& req) { return service.wrongMethod(meta(req), allow); });
  };
  server.Get("/v1/classify", wrong("POST"));
  for (const char* path : {"/v1/classify", "/v1/info", "/healthz"}) {
    const std::string allow = std::string(path) == "/v1/classify" ? "POST" : "GET";
    if (allow == "GET") server.Post(path, wrong(allow));
    server.Put(path, wrong(allow));
    server.Patch(path, wrong(allow));
    server.Delete(path, wrong(allow));
  }
  server.set_pre_routing_handler([&service](const httplib::Request& req, httplib::Response& res) {
    t_handled = false; // a fresh request on this thread, whatever the last one left
    // A POST without Content-Length (curl -X POST without -d) has no body to read:
    // httplib would wait for the client to close, then refuse it without a word.
    // Answered here as an empty body, after the key check like any other.
    if (req.method == "POST" && req.path == "/v1/classify" && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      endpoint([&service](const httplib::Request& r) { return service.classify(meta(r), ""); })(req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const int64_t max_body = options.max_body_bytes;
  server.set_error_handler([max_body](const httplib::Request& req, httplib::Response& res) {
    if (t_handled) return; // an endpoint's own 4xx/5xx reply
    nlohmann::json error = {{"status", res.status}};
    if (res.status == 413 && req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
      // cpp-httplib caps form-encoded bodies at 8 KiB whatever the server's limit;
      // `curl -d` sends that Content-Type unless told otherwise.
      error["field"] = "Content-Type";
      error["message"] = "Content-Type: application/x-www-form-urlencoded bodies (curl -d's default) are capped at "
                         "8192 bytes; send the JSON with \"Content-Type: application/json\" (curl -H)";
    } else if (res.status == 413) {
      error["field"] = "body";
      error["message"] = "body: over the limit of " + std::to_string(max_body) + " bytes (max_body_bytes)";
    } else {
      error["message"] = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path : "request refused";
    }
    res.set_content(nlohmann::json{{"error", error}}.dump(), "application/json");
  });
  server.set_logger([&service](const httplib::Request& req, const httplib::Response& res) {
    if (!t_handled) {
      try {
        service.logUnrouted(meta(req), res.status, res.status == 413 ? "body over the limit" : "unrouted");
      } catch (const std::exception&) { // the reply is already sent; a failed log row must not kill the worker
      }
    }
    t_handled = false;
  });

  int port = options.port;
  if (port == 0) port = server.bind_to_any_port(options.host);
  else if (!server.bind_to_port(options.host, port)) port = -1;
  if (port <= 0)
    throw std::runtime_error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                             " (in use, or not an address of this machine)");
  std::thread watcher([&] {
    while (!stop.stopRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server.stop();
  });
  on_listening(port);
  server.listen_after_bind();
  stop.requestStop(); // listen ended by itself: let the watcher go
  watcher.join();
}

} // namespace distillery
