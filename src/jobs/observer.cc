#include "jobs/observer.h"

namespace headroom {

void ObserverList::OnBatchStart(const Counts& c, TimePoint t) {
  for (Observer* o : observers_) o->OnBatchStart(c, t);
}
void ObserverList::OnJobSkipped(const Job& j, const Counts& c) {
  for (Observer* o : observers_) o->OnJobSkipped(j, c);
}
void ObserverList::OnJobLaunch(const Job& j, const LaunchInfo& l) {
  for (Observer* o : observers_) o->OnJobLaunch(j, l);
}
void ObserverList::OnJobStart(const Job& j, const AttemptStart& a, const Counts& c) {
  for (Observer* o : observers_) o->OnJobStart(j, a, c);
}
void ObserverList::OnJobCommit(const Job& j, const AttemptEnd& e, bool last) {
  for (Observer* o : observers_) o->OnJobCommit(j, e, last);
}
void ObserverList::OnJobEnd(const Job& j, const AttemptEnd& a, const Counts& c) {
  for (Observer* o : observers_) o->OnJobEnd(j, a, c);
}
void ObserverList::OnTick(const Counts& c, TimePoint t, const std::string& w) {
  for (Observer* o : observers_) o->OnTick(c, t, w);
}
void ObserverList::OnNotice(LogLevel l, const std::string& m) {
  for (Observer* o : observers_) o->OnNotice(l, m);
}
void ObserverList::OnSnapshot(const Snapshot& s) {
  for (Observer* o : observers_) o->OnSnapshot(s);
}
void ObserverList::OnJobPlaced(const Job& j, int attempt, const std::string& where) {
  for (Observer* o : observers_) o->OnJobPlaced(j, attempt, where);
}

void ObserverList::OnLimitChange(int device, int limit, const std::string& reason) {
  for (Observer* o : observers_) o->OnLimitChange(device, limit, reason);
}

void ObserverList::OnLearned(const LearnedFootprint& f) {
  for (Observer* o : observers_) o->OnLearned(f);
}
void ObserverList::OnBatchEnd(const Counts& c, TimePoint t) {
  for (Observer* o : observers_) o->OnBatchEnd(c, t);
}

}  // namespace headroom
