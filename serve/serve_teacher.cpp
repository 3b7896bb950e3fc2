#include "serve/serve_teacher.h"

#include "core/serve/request_log.h"
#include "serve/http_server.h"

namespace distillery {

int64_t serveTeacher(const ServeConfig& config, const ServedInput& input, const nlohmann::json& teacher,
                     const ClassifyService::Forward& forward, const std::string& host, int port, StopToken& stop,
                     const std::function<void(const ServeListening&)>& on_listening) {
  RequestLog log(config.log_path);
  ClassifyService service(config, input, teacher, forward, log);
  HttpServerOptions options;
  options.host = host;
  options.port = port;
  options.threads = config.threads;
  options.max_body_bytes = config.max_body_bytes;
  runHttpServer(service, options, stop, [&](int bound) {
    on_listening(ServeListening{host, bound, log.path(), service.output().mode});
  });
  return log.requestCount();
}

} // namespace distillery
