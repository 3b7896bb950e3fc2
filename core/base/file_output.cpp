#include "core/base/file_output.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace distillery {

void writeTextFile(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (path.empty()) throw std::runtime_error("no output file given");
  std::error_code ec;
  if (fs::is_directory(target, ec)) throw std::runtime_error("cannot write " + path + ": it is a directory");
  const std::string temp = target.string() + ".part";
  auto fail = [&](const std::string& why) {
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + why);
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(n < 0 ? errno : EIO);
      ::close(fd);
      fail(why);
    }
    done += size_t(n);
  }
  // On disk before the rename, so a crash leaves the old file or the whole new one.
  if (::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    fail(why);
  }
  if (::close(fd) != 0) fail(std::strerror(errno));
  if (::rename(temp.c_str(), path.c_str()) != 0) fail(std::strerror(errno));
  // The rename itself is durable once the folder is synced.
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : std::string(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string fileExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

} // namespace distillery
