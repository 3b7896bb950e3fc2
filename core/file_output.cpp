#include "core/file_output.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace distillery {

void writeTextFile(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (path.empty()) throw std::runtime_error("no output file given");
  std::error_code ec;
  if (fs::is_directory(target, ec)) throw std::runtime_error("cannot write " + path + ": it is a directory");
  const fs::path temp = target.string() + ".part";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    out.write(content.data(), std::streamsize(content.size()));
    out.close();
    if (!out) {
      fs::remove(temp, ec);
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
  }
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw std::runtime_error("cannot write " + path + ": " + ec.message());
  }
}

std::string fileExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

} // namespace distillery
