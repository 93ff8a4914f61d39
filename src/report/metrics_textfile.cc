#include "report/metrics_textfile.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/whole_file.h"

namespace headroom {
namespace {

std::string TempPath(const std::string& path) { return fmt::format("{}.tmp.{}", path, getpid()); }

}  // namespace

MetricsTextfile::MetricsTextfile(std::string path, const Metrics* metrics)
    : path_(std::move(path)), metrics_(metrics) {}

Status MetricsTextfile::Check(const std::string& path) {
  std::string tmp = TempPath(path);
  std::FILE* file = std::fopen(tmp.c_str(), "we");
  if (file == nullptr) {
    return Status::Error(fmt::format("cannot write beside {}: {}", path, strerror(errno)));
  }
  std::fclose(file);
  std::remove(tmp.c_str());
  return Status::Ok();
}

void MetricsTextfile::Write() {
  Status status = WriteFileAtomically(path_, metrics_->Render());
  if (status.ok() || warned_) return;
  warned_ = true;
  std::fprintf(stderr, "headroom: warning: --metrics-textfile: %s\n", status.message().c_str());
}

void MetricsTextfile::OnBatchStart(const Counts&, TimePoint now) {
  last_ = now;
  Write();
}

void MetricsTextfile::OnTick(const Counts&, TimePoint now, const std::string&) {
  if (last_ && now - *last_ < kEvery) return;
  last_ = now;
  Write();
}

void MetricsTextfile::OnBatchEnd(const Counts&, TimePoint) { Write(); }

}  // namespace headroom
