#pragma once
// Deadlines for coroutines (Boost 1.81 has no cancel_after): races the operation against a
// timer; the loser is cancelled through Asio's per-operation cancellation.

#include <chainmesh/net/errors.hpp>
#include <chainmesh/util/result.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace chainmesh::net {

template <class T>
boost::asio::awaitable<Result<T>> with_timeout(boost::asio::awaitable<Result<T>> operation,
                                               std::chrono::steady_clock::duration limit) {
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, limit);
    auto winner = co_await (std::move(operation) ||
                            timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
    if (winner.index() == 0) {
        co_return std::move(std::get<0>(winner));
    }
    co_return NetError::timeout;
}

}  // namespace chainmesh::net
