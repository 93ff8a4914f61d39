#include "report/report_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "journal/batch_data.h"
#include "report/batch_report.h"
#include "report/html_report.h"

namespace headroom {
namespace {

Status WriteAll(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string temp = fmt::format("{}.tmp-{}", path, getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  Status status = WriteAll(fd, content);
  if (status.ok() && fsync(fd) != 0) status = Status::Error(std::strerror(errno));
  if (close(fd) != 0 && status.ok()) status = Status::Error(std::strerror(errno));
  if (status.ok() && std::rename(temp.c_str(), path.c_str()) != 0) {
    status = Status::Error(std::strerror(errno));
  }
  if (!status.ok()) {
    unlink(temp.c_str());
    return Status::Error(fmt::format("{}: cannot write: {}", path, status.message()));
  }
  return Status::Ok();
}

Status WriteReports(const std::string& state_dir, std::optional<int64_t> batch,
                    const ReportFiles& files, double now) {
  BatchData data;
  Status status = LoadBatchData(state_dir, batch, &data);
  if (!status.ok()) return status;
  BatchReport report = BuildReport(std::move(data), now);
  if (!files.json.empty()) {
    status = WriteFileAtomically(files.json, ReportJson(report));
    if (!status.ok()) return Status::Error(files.json_option + " " + status.message());
  }
  if (!files.html.empty()) {
    status = WriteFileAtomically(files.html, RenderHtmlReport(report));
    if (!status.ok()) return Status::Error(files.html_option + " " + status.message());
  }
  return Status::Ok();
}

}  // namespace headroom
