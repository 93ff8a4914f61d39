// A persistent worker for `headroom run --worker`, in C++
// (docs/worker-protocol.md; built as headroom-example-worker).
//
// It loads its "model" once (sleeps HEADROOM_EXAMPLE_LOAD_MS), then answers
// requests from stdin until EOF: for each input it sleeps
// HEADROOM_EXAMPLE_MS_PER_INPUT and copies the input to its output. An
// input whose name contains "oom" is answered as out of memory; one
// containing "crash" makes the worker exit 3 mid-request (both for tests).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace {

using nlohmann::json;

void SleepMs(const char* variable) {
  const char* value = std::getenv(variable);
  std::this_thread::sleep_for(std::chrono::milliseconds(value ? std::atol(value) : 0));
}

json Serve(const json& request) {
  const json& inputs = request.at("inputs");
  const json& outputs = request.at("outputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string input = inputs[i].get<std::string>();
    if (input.find("crash") != std::string::npos) std::exit(3);
    if (input.find("oom") != std::string::npos) {
      return {{"ok", false}, {"oom", true}, {"error", "out of memory on " + input}};
    }
    SleepMs("HEADROOM_EXAMPLE_MS_PER_INPUT");
    if (outputs[i].is_null()) continue;
    std::error_code error;
    std::filesystem::copy_file(input, outputs[i].get<std::string>(),
                               std::filesystem::copy_options::overwrite_existing, error);
    if (error) return {{"ok", false}, {"error", input + ": " + error.message()}};
  }
  return {{"ok", true}};
}

}  // namespace

int main() {
  SleepMs("HEADROOM_EXAMPLE_LOAD_MS");  // load the model, once
  const char* gpu = std::getenv("CUDA_VISIBLE_DEVICES");
  std::cerr << "worker " << getpid() << " ready, gpu " << (gpu ? gpu : "-") << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {  // EOF: headroom says exit now
    // A name that is not UTF-8 arrives as a \udcXX escape, which
    // nlohmann-json rejects: such a request fails by the worker's exit.
    json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) {
      std::cerr << "cannot read request: " << line << std::endl;
      return 2;
    }
    json reply = Serve(request);
    reply["id"] = request.at("id");
    std::cout << reply.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
  }
}
