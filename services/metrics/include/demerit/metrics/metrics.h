#pragma once

// demerit's Prometheus metrics (the set in docs/operations-contract.md) and
// the HTTP listener that serves them with the health endpoints. Labels name
// sites, streams, rules and actions, never employees. Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "demerit/core/rules.h"
#include "demerit/core/status.h"
#include "demerit/v1/decision.pb.h"
#include "demerit/v1/events.pb.h"

namespace demerit::metrics {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // An input record applied (or a duplicate), with the facts the operations
  // dashboards chart (lateness, rings, hold time, arrival delay).
  void EventApplied(const v1::Envelope& event, const core::Site& site, bool duplicate);
  void DeadLettered(const std::string& stream, const std::string& reason);
  void Occurrence(const std::string& site, const std::string& pack, const std::string& rule);
  void DecisionMade(const v1::Decision& decision);
  void EventTimeLag(const std::string& stream, double seconds);
  void RuleEvaluation(double seconds);
  void TransactionCommitted(double seconds);
  void TransactionAborted();
  void TransactionFailed();
  void ConsumerLag(const std::string& topic, int32_t partition, int64_t lag);
  void RestoreDone(int32_t partition, double seconds, int64_t records, int64_t bytes);
  void SetRestoring(bool restoring);
  void SetAssignedPartitions(int count);
  void SetReady(bool ready);
  void RulesInForce(const std::string& version);
  void RulesReloaded(bool ok);
  // A rule in force changed without a new effective_from ("pack/rule").
  void RuleEditedInPlace(const std::string& qualified_rule);
  // Whether each site's default shift is under way at `now`, and since when
  // (for "site gone silent", which counts only shift time). Sites no longer
  // in `rules` are dropped.
  void SiteShifts(const core::RuleSet& rules, core::Nanos now);

  // The Prometheus text format of every metric.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Serves /metrics, /healthz (200 while the process runs) and /readyz (200
// when `ready` returns true, else 503) on `listen` ("HOST:PORT"; port 0 picks
// a free one).
class HttpServer {
 public:
  static core::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& listen,
                                                           const Metrics* metrics,
                                                           std::function<bool()> ready);
  ~HttpServer();
  int port() const { return port_; }
  struct Impl;

 private:
  HttpServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace demerit::metrics
