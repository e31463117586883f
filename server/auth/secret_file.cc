#include "server/auth/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "server/common/encoding.h"

namespace paybell::auth {
namespace {

constexpr size_t kSecretBytes = 32;

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::string ReadSecret(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) Fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    Fail(path, "not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    close(fd);
    Fail(path, "is readable or writable by other users; run chmod 600 on it");
  }
  std::string content;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) content.append(buf, static_cast<size_t>(n));
  close(fd);
  while (!content.empty() &&
         (content.back() == '\n' || content.back() == '\r' || content.back() == ' ')) {
    content.pop_back();
  }
  if (content.size() < 32) Fail(path, "holds fewer than 32 characters; delete it to regenerate");
  return content;
}

}  // namespace

std::string LoadOrCreateSecretFile(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return ReadSecret(path);

  // Write a temporary file completely, then link() it into place: link fails if another
  // process got there first, and nobody ever reads a half-written secret.
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = mkstemp(tmp.data());  // mode 0600
  if (fd < 0) Fail(path, std::string("cannot create a temporary file: ") + std::strerror(errno));
  const std::string secret = common::RandomHex(kSecretBytes);
  const std::string line = secret + "\n";
  const bool written =
      write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && fsync(fd) == 0;
  close(fd);
  if (!written) {
    unlink(tmp.c_str());
    Fail(tmp, "cannot write the generated secret");
  }
  const int linked = link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    Fail(path, std::string("cannot create: ") + std::strerror(link_errno));
  }
  return ReadSecret(path);
}

}  // namespace paybell::auth
