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
#include "report/trace_report.h"
#include "util/whole_file.h"

namespace headroom {
namespace {

// The failed jobs whose last stderr lines the reports show (the HTML table
// lists as many).
constexpr size_t kMaxFailedTails = 200;

}  // namespace

Status WriteReports(const std::string& state_dir, std::optional<int64_t> batch,
                    const ReportFiles& files, double now) {
  BatchData data;
  Status status = LoadBatchData(state_dir, batch, &data);
  if (!status.ok()) return status;
  BatchReport report = BuildReport(std::move(data), now);
  AddStderrTails(&report, kMaxFailedTails);
  if (!files.json.empty()) {
    status = WriteFileAtomically(files.json, ReportJson(report));
    if (!status.ok()) return Status::Error(files.json_option + " " + status.message());
  }
  if (!files.html.empty()) {
    status = WriteFileAtomically(files.html, RenderHtmlReport(report));
    if (!status.ok()) return Status::Error(files.html_option + " " + status.message());
  }
  if (!files.trace.empty()) {
    status = WriteFileAtomically(files.trace, ChromeTrace(report));
    if (!status.ok()) return Status::Error("--trace " + status.message());
  }
  return Status::Ok();
}

}  // namespace headroom
