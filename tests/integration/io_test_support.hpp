#pragma once
// Runs a test body as a coroutine on a fresh io_context, failing the test if it does not
// finish within a generous bound. The bound is a hang detector, not a timing assertion.

#include <chainmesh/net/host.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>

namespace chainmesh::testing {

inline constexpr std::chrono::seconds TEST_HANG_LIMIT{120};

// Safe with a capturing lambda coroutine called in the argument (`run_coroutine(io, [&]() ->
// awaitable<void> {...}())`): the closure lives until the full expression ends, after io.run.
inline void run_coroutine(boost::asio::io_context& io, boost::asio::awaitable<void> body) {
    bool finished = false;
    std::exception_ptr failure;
    boost::asio::co_spawn(io, std::move(body), [&](std::exception_ptr error) {
        finished = true;
        failure = error;
        io.stop();
    });
    io.run_for(TEST_HANG_LIMIT);
    ASSERT_TRUE(finished) << "the test body did not finish: something hangs";
    if (failure) {
        std::rethrow_exception(failure);
    }
}

inline net::HostConfig loopback_config() {
    net::HostConfig config;
    config.listen_addrs.push_back(*wire::Multiaddr::parse("/ip4/127.0.0.1/tcp/0"));
    return config;
}

}  // namespace chainmesh::testing
