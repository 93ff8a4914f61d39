#include "exec/slurm_launcher.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "exec/command_output.h"
#include "util/shell_quote.h"
#include "util/whole_file.h"

namespace headroom {
namespace {

using Clock = std::chrono::steady_clock;

// Far above any pid, so that a handle is never taken for a process here.
constexpr pid_t kFirstHandle = 1 << 30;
constexpr Millis kResultCheck{100};
constexpr Millis kCommandTimeout{30000};
constexpr int kSubmitTries = 4;
// How long a job that left the queue may stay unknown to both scontrol and
// sacct (slurmdbd hears of an end a moment after the controller) before it
// counts as lost.
constexpr std::chrono::seconds kAccountingLag{10};

// The controller did not answer: worth another try, unlike a rejection.
bool Transient(const std::string& text) {
  for (const char* sign : {"Socket timed out", "Unable to contact slurm controller",
                           "Resource temporarily unavailable", "Connection refused",
                           "Zero Bytes were transmitted"}) {
    if (text.find(sign) != std::string::npos) return true;
  }
  return false;
}

// The last non-empty line, for one-line errors.
std::string LastLine(const std::string& text) {
  std::string line;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) line = l;
  }
  return line;
}

// "Key=Value" of `scontrol show job -o` (one line of space-separated pairs).
std::string Field(const std::string& line, const std::string& key) {
  std::string needle = " " + key + "=";
  std::string padded = " " + line;
  size_t at = padded.find(needle);
  if (at == std::string::npos) return "";
  size_t start = at + needle.size();
  size_t end = padded.find(' ', start);
  return padded.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Runs a Slurm command; `out` gets its stdout and stderr together (through
// sh only to fold them: Slurm says why on stderr).
Status RunSlurm(ProcessSet* processes, const std::vector<std::string>& argv, std::string* out) {
  std::vector<std::string> command = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"};
  command.insert(command.end(), argv.begin(), argv.end());
  return CommandOutput(processes, command, kCommandTimeout, out);
}

// The directories of earlier runs of batch `batch` under <state_dir>/slurm
// (batch-<batch>-<pid>), each with its files.
std::vector<std::filesystem::path> BatchRunDirs(const std::string& state_dir, int64_t batch) {
  std::string prefix = fmt::format("batch-{}-", batch);
  std::vector<std::filesystem::path> dirs;
  std::error_code error;
  for (const auto& run : std::filesystem::directory_iterator(std::filesystem::path(state_dir) / "slurm", error)) {
    if (run.path().filename().string().rfind(prefix, 0) == 0) dirs.push_back(run.path());
  }
  return dirs;
}

// The paths of the files in `dir` whose names end with `suffix`.
std::vector<std::string> FilesEndingWith(const std::filesystem::path& dir, std::string_view suffix) {
  std::vector<std::string> paths;
  std::error_code error;
  for (const auto& file : std::filesystem::directory_iterator(dir, error)) {
    std::string path = file.path().string();
    if (EndsWith(path, suffix)) paths.push_back(std::move(path));
  }
  return paths;
}

// Cancels `ids`, one scancel per 100 (a job that ended meanwhile is not an
// error worth more).
void Scancel(ProcessSet* processes, const std::vector<std::string>& ids) {
  constexpr size_t kChunk = 100;
  for (size_t from = 0; from < ids.size(); from += kChunk) {
    std::vector<std::string> argv = {"scancel"};
    argv.insert(argv.end(), ids.begin() + static_cast<std::ptrdiff_t>(from),
                ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), from + kChunk)));
    std::string out;
    (void)CommandOutput(processes, argv, kCommandTimeout, &out);
  }
}

// A job's files once it has ended: Slurm's own output stays when it said
// something (a node's complaint is worth reading next to the job's logs).
void RemoveJobFiles(const std::string& base, const std::string& slurm_out) {
  for (const char* suffix : {".spec.json", ".result.json", ".jobid"}) {
    std::remove((base + suffix).c_str());
  }
  struct stat st;
  if (stat(slurm_out.c_str(), &st) == 0 && st.st_size == 0) std::remove(slurm_out.c_str());
}

}  // namespace

int CancelSlurmLeftovers(const std::string& state_dir, int64_t batch, ProcessSet* processes) {
  std::vector<std::string> ids;
  for (const std::filesystem::path& run : BatchRunDirs(state_dir, batch)) {
    for (const std::string& path : FilesEndingWith(run, ".jobid")) {
      std::string base = path.substr(0, path.size() - 6);
      ProcessExit ended;
      if (ReadSlurmResult(base + ".result.json", &ended)) continue;
      std::string id = ReadWholeFile(path).value_or("");
      id = id.substr(0, id.find('\n'));
      if (!id.empty()) ids.push_back(id);
      std::remove(path.c_str());  // asked once; a later resume does not ask again
    }
  }
  Scancel(processes, ids);
  return static_cast<int>(ids.size());
}

namespace {

// Reads the spec at `base`.spec.json into `left`; false when it is not one
// a resume can take back (an older headroom's, without a tag).
bool ReadLeftoverSpec(const std::string& base, SlurmLeftover* left) {
  std::string text = ReadWholeFile(base + ".spec.json").value_or("");
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("unit")) return false;
  try {
    left->tag.unit = json.at("unit").get<std::string>();
    left->tag.temp_outputs = json.at("temp_outputs").get<std::vector<std::string>>();
    left->tag.results = json.value("results", std::string());
    left->argv = json.at("argv").get<std::vector<std::string>>();
    left->stdout_path = json.at("stdout").get<std::string>();
    left->stderr_path = json.at("stderr").get<std::string>();
    if (json.contains("memory")) left->memory = json.at("memory").get<uint64_t>();
  } catch (const std::exception&) {
    return false;
  }
  return !left->tag.unit.empty();
}


}  // namespace

std::vector<SlurmLeftover> FindSlurmLeftovers(const std::string& state_dir, int64_t batch,
                                              ProcessSet* processes) {
  namespace fs = std::filesystem;
  std::vector<SlurmLeftover> found;
  std::vector<std::string> cancel;  // an older headroom's jobs: not taken back
  std::vector<std::string> names;
  // "<job name> <comment>" -> the spec's base, for jobs whose id was never
  // written: comment "7" is <dir>/7, "array-2" task 3 is line 3 of
  // <dir>/array-2.specs.
  std::map<std::string, std::string> by_comment;
  for (const fs::path& run : BatchRunDirs(state_dir, batch)) {
    std::string job_name = "headroom-" + run.filename().string();
    names.push_back(job_name);
    std::map<std::string, std::string> outputs;  // array tasks' Slurm output, by spec base
    for (const std::string& path : FilesEndingWith(run, ".specs")) {
      std::string list = path.substr(0, path.size() - 6);
      std::string comment = fs::path(list).filename().string();
      std::istringstream lines(ReadWholeFile(path).value_or(""));
      int task = 0;
      for (std::string spec; std::getline(lines, spec); ++task) {
        if (!EndsWith(spec, ".spec.json")) continue;
        std::string base = spec.substr(0, spec.size() - 10);
        outputs[base] = fmt::format("{}-{}.slurm.out", list, task);
        by_comment[fmt::format("{} {}_{}", job_name, comment, task)] = base;
      }
    }
    for (const std::string& path : FilesEndingWith(run, ".spec.json")) {
      SlurmLeftover left;
      left.base = path.substr(0, path.size() - 10);
      left.job_name = job_name;
      auto output = outputs.find(left.base);
      left.slurm_output = output != outputs.end() ? output->second : left.base + ".slurm.out";
      left.job_id = ReadWholeFile(left.base + ".jobid").value_or("");
      left.job_id = left.job_id.substr(0, left.job_id.find('\n'));
      ProcessExit ended;
      left.ended = ReadSlurmResult(left.base + ".result.json", &ended);
      if (!ReadLeftoverSpec(left.base, &left)) {
        if (!left.job_id.empty() && !left.ended) cancel.push_back(left.job_id);
        RemoveJobFiles(left.base, left.slurm_output);
        continue;
      }
      by_comment[job_name + " " + fs::path(left.base).filename().string()] = left.base;
      found.push_back(std::move(left));
    }
  }
  Scancel(processes, cancel);
  bool unknown = std::any_of(found.begin(), found.end(), [](const SlurmLeftover& left) {
    return left.job_id.empty() && !left.ended;
  });
  if (unknown) {
    // Killed between sbatch and writing the id: squeue knows it by its
    // job name and comment.
    std::string out;
    if (!RunSlurm(processes,
                  {"squeue", "--noheader", "--array", "--format=%i %j %k",
                   fmt::format("--name={}", fmt::join(names, ","))},
                  &out)
             .ok()) {
      return found;  // ask again next resume
    }
    std::map<std::string, std::string> ids;  // spec base -> job id
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string id, name, comment;
      words >> id >> name >> comment;
      size_t task = id.find('_');
      std::string key = name + " " + comment + (task == std::string::npos ? "" : id.substr(task));
      auto base = by_comment.find(key);
      if (base != by_comment.end()) ids[base->second] = id;
    }
    for (auto it = found.begin(); it != found.end();) {
      if (it->job_id.empty() && !it->ended) {
        auto id = ids.find(it->base);
        if (id == ids.end()) {  // never submitted, or gone without a result: its jobs run again
          RemoveJobFiles(it->base, it->slurm_output);
          it = found.erase(it);
          continue;
        }
        it->job_id = id->second;
      }
      ++it;
    }
  }
  return found;
}

void SlurmLauncher::SetLeftovers(std::vector<SlurmLeftover> leftovers) {
  for (SlurmLeftover& left : leftovers) {
    if (("," + queue_names_ + ",").find("," + left.job_name + ",") == std::string::npos) {
      queue_names_ += "," + left.job_name;
    }
    std::string unit = left.tag.unit;
    leftovers_[unit] = std::move(left);
  }
}

std::vector<std::string> SlurmLauncher::Leftovers() const {
  std::vector<std::string> units;
  for (const auto& [unit, left] : leftovers_) units.push_back(unit);
  return units;
}

bool SlurmLauncher::Adopt(const std::string& unit, AdoptedLaunch* out) {
  auto it = leftovers_.find(unit);
  if (it == leftovers_.end()) return false;
  SlurmLeftover& left = it->second;
  pid_t handle = next_handle_++;
  Submitted job;
  job.base = left.base;
  job.job_id = left.job_id;
  job.result_path = left.base + ".result.json";
  job.slurm_output = left.slurm_output;
  job.memory = left.memory;
  active_[handle] = job;
  out->handle = handle;
  out->tag = std::move(left.tag);
  out->argv = std::move(left.argv);
  out->stdout_path = std::move(left.stdout_path);
  out->stderr_path = std::move(left.stderr_path);
  out->memory = left.memory;
  leftovers_.erase(it);
  return true;
}

std::vector<LaunchTag> SlurmLauncher::DropLeftovers() {
  std::vector<std::string> ids;
  std::vector<LaunchTag> tags;
  for (auto& [unit, left] : leftovers_) {
    if (!left.ended && !left.job_id.empty()) ids.push_back(left.job_id);
    RemoveJobFiles(left.base, left.slurm_output);
    tags.push_back(std::move(left.tag));
  }
  leftovers_.clear();
  Scancel(processes_, ids);
  return tags;
}

bool ReadSlurmResult(const std::string& path, ProcessExit* exit) {
  std::string text = ReadWholeFile(path).value_or("");
  if (text.empty()) return false;
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("exit_code")) return false;
  exit->exit_code = json.value("exit_code", -1);
  exit->signal = json.value("signal", 0);
  exit->cpu_seconds = json.value("cpu_seconds", 0.0);
  exit->max_rss_kb = json.value("max_rss_kb", int64_t{0});
  exit->oom_reported = json.value("oom", false);
  exit->note = json.value("note", std::string());
  if (json.contains("peak_vram") && json["peak_vram"].is_number_unsigned()) {
    exit->peak_vram = json["peak_vram"].get<uint64_t>();
  }
  return true;
}

SlurmLauncher::SlurmLauncher(SlurmConfig config, ProcessSet* processes)
    : config_(std::move(config)),
      processes_(processes),
      next_handle_(kFirstHandle),
      queue_names_(config_.job_name) {
  std::error_code error;
  std::filesystem::create_directories(config_.dir, error);
}

std::vector<std::string> SlurmLauncher::SbatchArgv(const std::string& spec_path,
                                                   const std::string& slurm_output,
                                                   std::optional<uint64_t> memory,
                                                   size_t array_size) const {
  std::vector<std::string> argv = {"sbatch",   "--parsable", "--job-name", config_.job_name,
                                   "--chdir",  config_.cwd,  "--output",   slurm_output,
                                   "--open-mode=append"};
  if (!config_.partition.empty()) argv.push_back("--partition=" + config_.partition);
  if (!config_.account.empty()) argv.push_back("--account=" + config_.account);
  if (!config_.time.empty()) argv.push_back("--time=" + config_.time);
  if (config_.cpus_per_job > 0) argv.push_back(fmt::format("--cpus-per-task={}", config_.cpus_per_job));
  if (!memory) memory = config_.mem;
  if (memory) {
    uint64_t mib = (*memory + (uint64_t{1} << 20) - 1) >> 20;
    argv.push_back(fmt::format("--mem={}M", std::max<uint64_t>(1, mib)));
  }
  if (!config_.gpus_per_job.empty()) argv.push_back("--gres=gpu:" + config_.gpus_per_job);
  if (array_size > 0) argv.push_back(fmt::format("--array=0-{}", array_size - 1));
  argv.insert(argv.end(), config_.extra.begin(), config_.extra.end());
  std::string comment = std::filesystem::path(spec_path).filename().string();
  comment = comment.substr(0, comment.find('.'));
  argv.push_back("--comment=" + comment);
  argv.push_back("--wrap");
  argv.push_back("exec " + ShellJoin({config_.self, "slurm-exec", spec_path}));
  return argv;
}

Status SlurmLauncher::Run(const std::vector<std::string>& argv, std::string* out) {
  return RunSlurm(processes_, argv, out);
}

Status SlurmLauncher::Connect() {
  std::string out;
  Status status = Run({"scontrol", "show", "node", "--oneliner"}, &out);
  if (!status.ok()) {
    std::string why = LastLine(out);
    if (why.find("not found") != std::string::npos) {
      return Status::Error("scontrol is not on PATH (Slurm's client commands are needed: " + why +
                           ")");
    }
    return Status::Error("the Slurm controller does not answer: " +
                         (why.empty() ? status.message() : why));
  }
  uint64_t largest_mib = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    largest_mib = std::max<uint64_t>(largest_mib, std::strtoull(Field(line, "RealMemory").c_str(), nullptr, 10));
  }
  if (!config_.partition.empty() &&
      Run({"scontrol", "show", "partition", "--oneliner", config_.partition}, &out).ok()) {
    uint64_t limit = std::strtoull(Field(out, "MaxMemPerNode").c_str(), nullptr, 10);
    if (limit > 0) largest_mib = std::min(largest_mib, limit);
  }
  if (largest_mib > 0) {
    max_memory_ = largest_mib << 20;
    max_memory_why_ = config_.partition.empty()
                          ? "no node has more"
                          : "no node of partition " + config_.partition + " has more";
  }
  if (Run({"scontrol", "show", "config"}, &out).ok()) {
    std::istringstream config(out);
    for (std::string line; std::getline(config, line);) {
      if (line.rfind("AccountingStorageType", 0) == 0) {
        accounting_ = line.find("accounting_storage/none") == std::string::npos;
      }
      if (line.rfind("MaxArraySize", 0) != 0) continue;
      // "MaxArraySize            = 1001": indices 0 .. 1000.
      unsigned long long size = std::strtoull(line.substr(line.find('=') + 1).c_str(), nullptr, 10);
      if (size > 0) max_array_size_ = static_cast<size_t>(size);
    }
  }
  return Status::Ok();
}

Status SlurmLauncher::Launch(const SpawnSpec& spec, std::optional<uint64_t> memory,
                             const LaunchTag& tag, pid_t* handle) {
  pid_t n = next_handle_++;
  std::string base = fmt::format("{}/{}", config_.dir, n - kFirstHandle + 1);
  Submitted submitted;
  submitted.base = base;
  submitted.result_path = base + ".result.json";
  std::remove(submitted.result_path.c_str());
  nlohmann::json json = {{"path", spec.path},
                         {"argv", spec.argv},
                         {"env", spec.env},
                         {"stdout", spec.stdout_path},
                         {"stderr", spec.stderr_path},
                         {"result", submitted.result_path},
                         {"unit", tag.unit},
                         {"temp_outputs", tag.temp_outputs},
                         {"results", tag.results}};
  if (memory) json["memory"] = *memory;
  std::string spec_path = base + ".spec.json";
  Status status = WriteFileAtomically(
      spec_path, json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!status.ok()) return status;
  submitted.slurm_output = base + ".slurm.out";
  submitted.memory = memory;
  if (config_.arrays) {
    active_[n] = submitted;
    queued_.push_back(n);
    *handle = n;
    return Status::Ok();
  }
  std::string id;
  status = Submit(SbatchArgv(spec_path, submitted.slurm_output, memory), &id);
  if (!status.ok()) return status;
  active_[n] = submitted;
  Submitted_(n, id);
  *handle = n;
  return Status::Ok();
}

Status SlurmLauncher::Submit(const std::vector<std::string>& argv, std::string* id) {
  std::string out;
  Status status;
  for (int attempt = 1;; ++attempt) {
    out.clear();
    status = Run(argv, &out);
    if (status.ok() || attempt == kSubmitTries || !Transient(out)) break;
    std::this_thread::sleep_for(Millis(250 << attempt));
  }
  if (!status.ok()) {
    std::string why = LastLine(out);
    if (why.empty()) why = status.message();
    return Status::Error(why.rfind("sbatch:", 0) == 0 ? why : "sbatch: " + why);
  }
  *id = LastLine(out);
  *id = id->substr(0, id->find(';'));
  if (id->empty() || id->find_first_not_of("0123456789") != std::string::npos) {
    return Status::Error("sbatch printed no job id: " + LastLine(out));
  }
  return Status::Ok();
}

void SlurmLauncher::Submitted_(pid_t handle, const std::string& id) {
  Submitted& job = active_.at(handle);
  job.job_id = id;
  // For a resume after a kill (FindSlurmLeftovers, CancelSlurmLeftovers).
  (void)WriteFileAtomically(job.base + ".jobid", id + "\n");
}

void SlurmLauncher::EndUnsubmitted(pid_t handle, const std::string& why, int signal) {
  ProcessExit exit;
  exit.pid = handle;
  if (signal != 0) {
    exit.signal = signal;
  } else {
    exit.exit_code = 1;
  }
  exit.note = why;
  ended_.push_back(exit);
  std::remove((active_.at(handle).base + ".spec.json").c_str());
  active_.erase(handle);
}

void SlurmLauncher::Flush() {
  // Same request, same array; in launch order.
  std::map<std::optional<uint64_t>, std::vector<pid_t>> groups;
  for (pid_t handle : queued_) groups[active_.at(handle).memory].push_back(handle);
  queued_.clear();
  for (const auto& [memory, handles] : groups) {
    for (size_t from = 0; from < handles.size(); from += max_array_size_) {
      std::vector<pid_t> chunk(handles.begin() + static_cast<std::ptrdiff_t>(from),
                               handles.begin() + static_cast<std::ptrdiff_t>(
                                                     std::min(handles.size(), from + max_array_size_)));
      std::string id;
      if (chunk.size() == 1) {
        Submitted& job = active_.at(chunk.front());
        Status status = Submit(SbatchArgv(job.base + ".spec.json", job.slurm_output, memory), &id);
        if (status.ok()) {
          Submitted_(chunk.front(), id);
        } else {
          EndUnsubmitted(chunk.front(), status.message());
        }
        continue;
      }
      std::string list = fmt::format("{}/array-{}", config_.dir, ++arrays_submitted_);
      std::string specs;
      for (pid_t handle : chunk) specs += active_.at(handle).base + ".spec.json\n";
      Status status = WriteFileAtomically(list + ".specs", specs);
      if (status.ok()) {
        status = Submit(SbatchArgv(list + ".specs", list + "-%a.slurm.out", memory, chunk.size()), &id);
      }
      for (size_t i = 0; i < chunk.size(); ++i) {
        if (!status.ok()) {
          EndUnsubmitted(chunk[i], status.message());
          continue;
        }
        active_.at(chunk[i]).slurm_output = fmt::format("{}-{}.slurm.out", list, i);
        Submitted_(chunk[i], fmt::format("{}_{}", id, i));
      }
    }
  }
}


// An interrupt signals every running job at once: they are cancelled
// together, by the next Wait, in one scancel per 100 jobs.
void SlurmLauncher::Signal(pid_t handle, int /*signal*/) {
  auto it = active_.find(handle);
  if (it == active_.end() || it->second.cancelled) return;
  if (it->second.job_id.empty()) {  // still queued here: Slurm never saw it
    queued_.erase(std::remove(queued_.begin(), queued_.end(), handle), queued_.end());
    EndUnsubmitted(handle, "cancelled before it was submitted", SIGTERM);
    return;
  }
  // scancel: SIGTERM to the job's processes, SIGKILL after the cluster's
  // KillWait; a pending job just leaves the queue.
  it->second.cancelled = true;
  to_cancel_.push_back(it->second.job_id);
}

void SlurmLauncher::CancelAsked() {
  Scancel(processes_, to_cancel_);
  to_cancel_.clear();
}

void SlurmLauncher::CheckResults(std::vector<ProcessExit>* exits) {
  for (auto it = active_.begin(); it != active_.end();) {
    ProcessExit exit;
    if (ReadSlurmResult(it->second.result_path, &exit)) {
      exit.pid = it->first;
      exits->push_back(exit);
      RemoveJobFiles(it->second.base, it->second.slurm_output);
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
}

bool ParseScontrolJob(const std::string& text, SlurmJobEnd* out) {
  *out = SlurmJobEnd();
  out->state = Field(text, "JobState");
  if (out->state.empty()) return false;
  std::string code = Field(text, "ExitCode");  // "3:0": exit status, signal
  if (std::sscanf(code.c_str(), "%d:%d", &out->exit_code, &out->signal) != 2) {
    out->exit_code = 1;
    out->signal = 0;
  }
  out->reason = Field(text, "Reason");
  if (out->reason == "None") out->reason.clear();
  return true;
}

std::map<std::string, SlurmQueued> ParseSqueue(const std::string& text) {
  std::map<std::string, SlurmQueued> queued;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string id;
    SlurmQueued q;
    words >> id >> q.state;
    // The reason may hold spaces ("(Nodes required for job are DOWN, ...)");
    // the node list, last, does not.
    std::string rest;
    std::getline(words, rest);
    size_t from = rest.find_first_not_of(' ');
    rest = from == std::string::npos ? "" : rest.substr(from);
    size_t last_space = rest.rfind(' ');
    q.reason = last_space == std::string::npos ? rest : rest.substr(0, last_space);
    q.node = last_space == std::string::npos ? "" : rest.substr(last_space + 1);
    if (q.reason == "None") q.reason.clear();
    if (q.node == "(null)") q.node.clear();
    if (!id.empty() && !q.state.empty()) queued[id] = q;
  }
  return queued;
}

bool ParseSacctJob(const std::string& text, const std::string& id, SlurmJobEnd* out) {
  *out = SlurmJobEnd();
  bool found = false;
  std::string oom_step;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream row(line);
    for (std::string field; std::getline(row, field, '|');) fields.push_back(field);
    if (fields.size() < 3) continue;
    std::string state = fields[1].substr(0, fields[1].find(' '));  // "CANCELLED by 0"
    if (fields[0] == id) {
      found = true;
      out->state = state;
      if (std::sscanf(fields[2].c_str(), "%d:%d", &out->exit_code, &out->signal) != 2) {
        out->exit_code = 1;
        out->signal = 0;
      }
      out->reason = fields.size() > 3 && fields[3] != "None" ? fields[3] : "";
    } else if (fields[0].rfind(id + ".", 0) == 0 && state == "OUT_OF_MEMORY" && oom_step.empty()) {
      oom_step = fields[0];
    }
  }
  if (found && !oom_step.empty() && out->state != "OUT_OF_MEMORY") {
    // The job's own row says FAILED when a step ran out of memory.
    out->state = "OUT_OF_MEMORY";
    out->reason = "step " + oom_step;
  }
  return found && !out->state.empty();
}

bool SlurmLauncher::EndOf(pid_t handle, const std::string& id, ProcessExit* result) {
  ProcessExit& exit = *result;
  exit = ProcessExit();
  exit.pid = handle;
  std::string out;
  SlurmJobEnd end;
  // scontrol is the controller's own word, final as soon as the job left
  // the queue, but it forgets jobs after MinJobAge and reads no steps.
  // sacct (with accounting) remembers, and reads every step, but may lag
  // behind: it only adds what scontrol cannot say.
  Status status = Run({"scontrol", "show", "job", "--oneliner", id}, &out);
  bool known = ParseScontrolJob(status.ok() ? out : "", &end);
  if (accounting_ && (!known || end.state == "FAILED")) {
    std::string accounted;
    SlurmJobEnd from_sacct;
    if (Run({"sacct", "-j", id, "--noheader", "--parsable2", "--format=JobID,State,ExitCode,Reason"},
            &accounted)
            .ok() &&
        ParseSacctJob(accounted, id, &from_sacct) && from_sacct.state != "RUNNING" &&
        from_sacct.state != "PENDING" && from_sacct.state != "COMPLETING" &&
        (!known || from_sacct.state == "OUT_OF_MEMORY")) {
      end = from_sacct;  // forgotten by scontrol, or a step that ran out of memory
      known = true;
    }
  }
  if (!known) {
    exit.signal = SIGKILL;
    exit.note = fmt::format("slurm job {} left the queue without a result ({})", id,
                            LastLine(out).empty() ? "scontrol does not know it" : LastLine(out));
    return false;
  }
  if (end.signal != 0) {
    // OUT_OF_MEMORY says 0:125, not a signal: the kernel's SIGKILL it was.
    exit.signal = end.signal < 65 ? end.signal : SIGKILL;
  } else {
    exit.exit_code = end.exit_code == 0 ? 1 : end.exit_code;  // it left no result: not a success
  }
  exit.oom_reported = end.state == "OUT_OF_MEMORY";
  exit.note = fmt::format("slurm job {} ended {}{}", id, end.state,
                          end.reason.empty() ? "" : " (" + end.reason + ")");
  return true;
}

void SlurmLauncher::CheckQueue(std::vector<ProcessExit>* exits) {
  std::string out;
  // --array: each array task on a line of its own ("42_3"), pending ones
  // too; then its state, why it waits, and its node.
  if (!Run({"squeue", "--noheader", "--array", "--format=%i %T %r %N", "--name=" + queue_names_},
           &out)
           .ok()) {
    return;  // the controller is busy: ask again next time
  }
  std::map<std::string, SlurmQueued> queued = ParseSqueue(out);
  for (auto it = active_.begin(); it != active_.end();) {
    auto found = queued.find(it->second.job_id);
    if (it->second.job_id.empty() || found != queued.end()) {
      if (found != queued.end()) {
        it->second.state = found->second.state;
        it->second.reason = found->second.reason;
        it->second.node = found->second.node;
      }
      ++it;
      continue;
    }
    ProcessExit exit;
    // It may have written its result just after the last check.
    if (ReadSlurmResult(it->second.result_path, &exit)) {
      exit.pid = it->first;
    } else if (!EndOf(it->first, it->second.job_id, &exit)) {
      // Neither scontrol nor sacct knows how it ended: with accounting,
      // slurmdbd may not have heard of the end yet. Ask again at the next
      // polls, for a while, before calling it lost.
      auto now = Clock::now();
      if (!it->second.unknown_since) it->second.unknown_since = now;
      if (accounting_ && now - *it->second.unknown_since < kAccountingLag) {
        ++it;
        continue;
      }
    }
    exits->push_back(exit);
    RemoveJobFiles(it->second.base, it->second.slurm_output);
    it = active_.erase(it);
  }
}

std::string SlurmLauncher::Where(pid_t handle) const {
  auto it = active_.find(handle);
  if (it == active_.end() || it->second.job_id.empty()) return "";
  const Submitted& job = it->second;
  std::string where = "slurm " + job.job_id;
  if (!job.state.empty()) where += " " + job.state;
  if (job.state == "PENDING" && !job.reason.empty()) where += " (" + job.reason + ")";
  if (job.state != "PENDING" && !job.node.empty()) where += " on " + job.node;
  return where;
}

void SlurmLauncher::Wait(Millis timeout, std::vector<ProcessExit>* exits, int* interrupt) {
  exits->clear();
  *interrupt = 0;
  auto deadline = Clock::now() + timeout;
  Flush();
  CancelAsked();
  exits->insert(exits->end(), ended_.begin(), ended_.end());
  ended_.clear();
  if (!exits->empty()) return;
  for (;;) {
    CheckResults(exits);
    auto now = Clock::now();
    if (exits->empty() && !active_.empty() && now - last_queue_check_ >= config_.poll) {
      last_queue_check_ = now;
      CheckQueue(exits);
    }
    if (!exits->empty() || now >= deadline) return;
    auto left = std::chrono::duration_cast<Millis>(deadline - now);
    std::vector<ProcessExit> local;  // none: every Slurm helper is reaped by CommandOutput
    processes_->Wait(std::max(Millis(1), std::min(left, kResultCheck)), &local, interrupt);
    if (*interrupt != 0) return;
  }
}

}  // namespace headroom
