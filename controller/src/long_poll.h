// A unary call that waits for work: `attempt` runs on the executor and
// returns true once it has filled the response; until then it is retried on
// the timer every poll interval, without holding a thread, until `wait` has
// passed (then the call answers OK with an empty response) or the client
// goes away.
#pragma once

#include <memory>

#include "service_base.h"

namespace hilnas::controller {

template <typename Attempt>
class Poller {
  public:
    struct State {
        ServiceDeps deps;
        grpc::CallbackServerContext* ctx;
        grpc::ServerUnaryReactor* reactor;
        std::chrono::steady_clock::time_point deadline;
        const char* method;
        Attempt attempt;
    };
    explicit Poller(std::shared_ptr<State> state) : state_(std::move(state)) {}

    void operator()() const {
        bool done = false;
        const grpc::Status status = rpc::Guard(state_->method, [&] {
            done = state_->attempt();
            return grpc::Status::OK;
        });
        if (!status.ok() || done || state_->ctx->IsCancelled() ||
            std::chrono::steady_clock::now() >= state_->deadline) {
            state_->reactor->Finish(status);
        } else if (!state_->deps.timer->After(state_->deps.options.poll_interval, *this)) {
            state_->reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
        }
    }

  private:
    std::shared_ptr<State> state_;
};

template <typename Attempt>
void LongPoll(const ServiceDeps& deps, grpc::CallbackServerContext* ctx,
              grpc::ServerUnaryReactor* reactor, std::chrono::milliseconds wait, const char* method,
              Attempt attempt) {
    using P = Poller<Attempt>;
    auto state = std::make_shared<typename P::State>(typename P::State{
        deps, ctx, reactor, std::chrono::steady_clock::now() + wait, method, std::move(attempt)});
    if (!deps.pool->Submit(P(state))) {
        reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    }
}

}  // namespace hilnas::controller
