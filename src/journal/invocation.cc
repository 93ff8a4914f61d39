#include "journal/invocation.h"

#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "journal/journal.h"

namespace headroom {

std::string InvocationJson(const Invocation& invocation) {
  nlohmann::json json = {
      {"args", invocation.args}, {"cwd", invocation.cwd}, {"stdin", invocation.stdin_inputs}};
  // Arguments are bytes as given; invalid UTF-8 must not make dump() throw.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status ParseInvocation(const std::string& text, Invocation* out) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("args") || !json["args"].is_array() ||
      !json.contains("cwd") || !json["cwd"].is_string()) {
    return Status::Error("the batch's recorded command line is damaged");
  }
  Invocation invocation;
  for (const auto& arg : json["args"]) {
    if (!arg.is_string()) return Status::Error("the batch's recorded command line is damaged");
    invocation.args.push_back(arg.get<std::string>());
  }
  invocation.cwd = json["cwd"].get<std::string>();
  invocation.stdin_inputs = json.value("stdin", false);
  *out = std::move(invocation);
  return Status::Ok();
}

std::vector<std::string> ResumeArgs(const Invocation& invocation, int64_t batch, bool failed) {
  std::vector<std::string> args = {"run", failed ? "--resume-failed" : "--resume", "--batch",
                                   std::to_string(batch)};
  if (invocation.stdin_inputs) args.push_back("-0");
  bool in_options = true;
  for (size_t i = invocation.args.empty() ? 0 : 1; i < invocation.args.size(); ++i) {
    const std::string& arg = invocation.args[i];
    if (arg == "--") in_options = false;
    if (in_options) {
      if (arg == "--resume" || arg == "--resume-failed" || arg.rfind("--batch=", 0) == 0) continue;
      if (arg == "--batch") {
        ++i;  // and its value
        continue;
      }
    }
    args.push_back(arg);
  }
  return args;
}

Status PlanResume(const std::string& state_dir, std::optional<int64_t> batch, bool failed,
                  ResumeCommand* out) {
  std::unique_ptr<Journal> journal;
  Status status = Journal::OpenReadOnly(state_dir, &journal);
  BatchRecord record;
  if (status.ok()) status = journal->ChosenBatch(batch, &record);
  if (!status.ok()) return status;
  std::vector<EventRecord> events;
  status = journal->Events(record.id, &events);
  if (!status.ok()) return status;
  const EventRecord* recorded = nullptr;
  for (const EventRecord& event : events) {
    if (event.kind == kInvocationEvent) {
      recorded = &event;
      break;
    }
  }
  if (recorded == nullptr) {
    return Status::Error(fmt::format(
        "batch {} has no recorded command line (an older headroom ran it): continue it with "
        "'headroom run --resume' and its command line",
        record.id));
  }
  Invocation invocation;
  status = ParseInvocation(recorded->text, &invocation);
  if (!status.ok()) return status.WithContext(fmt::format("batch {}", record.id));
  out->batch = record.id;
  out->args = ResumeArgs(invocation, record.id, failed);
  out->cwd = invocation.cwd;
  out->stdin_data.reset();
  if (!invocation.stdin_inputs) return Status::Ok();
  std::vector<JobRecord> jobs;
  status = journal->Jobs(record.id, &jobs);
  if (!status.ok()) return status;
  std::string data;
  for (const JobRecord& job : jobs) {
    data += job.input;
    data += '\0';
  }
  out->stdin_data = std::move(data);
  return Status::Ok();
}

}  // namespace headroom
