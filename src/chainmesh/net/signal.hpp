#pragma once
// A wake-up for coroutines on one io_context thread: wait() suspends until the next notify().
//
// Waiters must check their condition before each wait() with no suspension in between; on a
// single thread that makes a lost wake-up impossible.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chainmesh::net {

class Signal {
public:
    explicit Signal(const boost::asio::any_io_executor& executor)
        : m_timer(executor, boost::asio::steady_timer::time_point::max()) {}

    boost::asio::awaitable<void> wait() {
        co_await m_timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    void notify() { m_timer.cancel(); }

private:
    boost::asio::steady_timer m_timer;
};

}  // namespace chainmesh::net
