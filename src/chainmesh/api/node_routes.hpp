#pragma once
// The node's operator API: the routes a running node serves over HttpServer.
//
//   GET  /health  200 {"status":"ok"}, or 503 {"status":"unhealthy"} when the node cannot
//                 serve (its store failed, or it is shutting down).
//   GET  /status  200 NodeStatus as JSON: snake_case keys named after the fields, `sync` as a
//                 nested object, empty optionals as null.
//   GET  /peers   200 [PeerStatus as JSON, ...].
//   GET  /blocks/{height or hash}   200 BlockInfo as JSON, 404 not_found when unknown.
//   GET  /tx/{id}                   200 TransactionInfo as JSON (block_hash and height null
//                                   while pending), 404 not_found when unknown.
//   GET  /accounts/{address}        200 AccountStatus as JSON, 400 bad_address when the text
//                                   is not an address.
//   POST /tx      the signed transaction in hex, as `chainmesh tx sign` prints it (surrounding
//                 whitespace ignored), or {"tx":"<hex>"} when the Content-Type is
//                 application/json. 200 {"accepted":true,"id":...} when the mempool took it;
//                 422 {"accepted":false,"id":...,"reason":...,"detail":...} when it refused it
//                 (id null when the transaction did not decode); 400 bad_hex / bad_json when
//                 the body is not what it should be.
// Every JSON object uses the structs' field names as keys, and null for an empty optional.
//
// Threading: handlers run on the node's I/O thread and call the NodeApi there; only
// submit_transaction suspends (its signature check runs on a worker thread).

#include <chainmesh/api/http_server.hpp>
#include <chainmesh/node/node_api.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace chainmesh::api {

// Routes the handlers to `node`, which must outlive the server's io_context run.
void add_node_routes(HttpServer& server, node::NodeApi& node);

nlohmann::json status_to_json(const node::NodeStatus& status);
nlohmann::json peer_to_json(const node::PeerStatus& peer);
nlohmann::json block_to_json(const node::BlockInfo& block);
nlohmann::json transaction_to_json(const node::TransactionInfo& transaction);
nlohmann::json account_to_json(const node::AccountStatus& account);

// The /status JSON for people, one "name   value" line each: peer id, network, height and
// best hash, peers, mempool, sync (with its target and time left), mining, listen addresses.
// It reads what a node sent, so missing or mistyped fields show as "?" instead of throwing.
std::string render_status_text(const nlohmann::json& status);

}  // namespace chainmesh::api
