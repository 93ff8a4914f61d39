// How many jobs run at once and how many threads each may start, when the
// user leaves it to headroom (-j auto, --threads-per-job auto). The option
// parser applies these; the policy is the scheduler's.
#pragma once

namespace headroom {

// -j auto: every core but two, for headroom, the desktop and the jobs'
// own helper threads; at least one.
int AutoJobCount(unsigned cores);

// --threads-per-job auto: each job's share of the cores, at least one, so
// that `jobs` jobs' math libraries together start about one thread per core.
int AutoThreadsPerJob(unsigned cores, int jobs);

}  // namespace headroom
