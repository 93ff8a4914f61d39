// ReadLines and LoadInputs; the directory scan and the jobs file live in
// scan_directory.cc and jobs_file.cc.
#include "jobs/sources.h"

#include <cerrno>
#include <cstring>

#include "jobs/line_reader.h"

namespace headroom {
namespace {

std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// The exclusive sources the user gave, in order of preference.
std::vector<const char*> GivenSources(const InputSpec& spec) {
  std::vector<const char*> given;
  if (spec.has_arg_inputs) given.push_back("arguments after :::");
  if (!spec.arg_files.empty()) given.push_back("an input file (-a or ::::)");
  if (!spec.input_dir.empty()) given.push_back("--input-dir");
  if (!spec.jobs_file.empty()) given.push_back("--jobs-file");
  return given;
}

}  // namespace

Status ReadLines(std::FILE* in, std::vector<RawInput>* out, bool null_separated,
                 const std::string& what) {
  LineReader reader(in, null_separated ? '\0' : '\n');
  std::string_view line;
  for (int64_t number = 1; reader.Next(&line); ++number) {
    if (line.empty()) continue;
    // A program's argument ends at a NUL: the job would get another input.
    if (line.find('\0') != std::string_view::npos) {
      return Status::Error(what + " line " + std::to_string(number) +
                           " contains a NUL byte, which no program can be given (-0 reads "
                           "NUL-separated input)");
    }
    RawInput input;
    input.input = line;
    out->push_back(std::move(input));
  }
  if (reader.failed()) {
    return Status::Error("cannot read " + what + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

namespace {

// -a FILE / :::: FILE: one file of inputs ("-": stdin), read as stdin is.
Status ReadArgFiles(const InputSpec& spec, std::FILE* stdin_file, std::vector<RawInput>* out,
                    std::string* source_name) {
  if (spec.arg_files.size() > 1) {
    return Status::Error(
        "several input files (GNU parallel runs all their combinations) are not supported: "
        "concatenate them (cat a b | headroom run ...)");
  }
  const std::string& path = spec.arg_files.front();
  *source_name = "input file " + path;
  if (path == "-") {
    if (stdin_file == nullptr) return Status::Error("no stdin to read inputs from");
    return ReadLines(stdin_file, out, spec.null_separated);
  }
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) {
    return Status::Error("input file '" + path + "': " + std::strerror(errno));
  }
  Status status = ReadLines(file, out, spec.null_separated, "'" + path + "'");
  std::fclose(file);
  return status;
}

}  // namespace

Status LoadInputs(const InputSpec& spec, std::FILE* stdin_file, bool stdin_is_tty,
                  std::vector<RawInput>* out, std::string* source_name) {
  // Two sources are a mistake more often than a wish; picking one silently
  // would run the wrong batch.
  std::vector<const char*> given = GivenSources(spec);
  if (given.size() > 1) {
    return Status::Error(std::string(given[0]) + " and " + given[1] + " both given; pick one");
  }
  if (spec.input_dir.empty() && (!spec.exts.empty() || spec.recursive)) {
    return Status::Error(std::string(spec.recursive ? "--recursive" : "--ext") +
                         " selects files under --input-dir, which is not given");
  }
  if (spec.has_arg_inputs) {
    for (const std::string& arg : spec.arg_inputs) {
      RawInput input;
      input.input = arg;
      out->push_back(std::move(input));
    }
    *source_name = Plural(spec.arg_inputs.size(), "argument");
    return Status::Ok();
  }
  if (!spec.arg_files.empty()) return ReadArgFiles(spec, stdin_file, out, source_name);
  if (!spec.input_dir.empty()) {
    *source_name = "directory " + spec.input_dir;
    return ScanDirectory(spec.input_dir, spec.exts, spec.recursive, out);
  }
  if (!spec.jobs_file.empty()) {
    *source_name = "jobs file " + spec.jobs_file;
    return ReadJobsFile(spec.jobs_file, out);
  }
  if (stdin_is_tty || stdin_file == nullptr) {
    return Status::Error(
        "no inputs: give arguments after :::, --input-dir, --jobs-file, or pipe lines to stdin");
  }
  *source_name = "stdin";
  return ReadLines(stdin_file, out, spec.null_separated);
}

}  // namespace headroom
