//! The Bolt wire protocol and server, with no dependency on the engine.
//!
//! Data flows bottom-up: [`handshake`] picks a protocol version from the client's first 20 bytes;
//! [`chunk`] turns the byte stream into whole messages; [`packstream`] decodes a message into a
//! [`packstream::Value`] (a structure); [`message`] turns that structure into a typed
//! [`message::Request`] and encodes [`message::Response`]s. [`session`] is the server state
//! machine (auto-commit and explicit transactions, results streamed through
//! [`session::RecordStream`]s) over a [`session::Backend`] (implemented by the HTTP crate over
//! the query manager),
//! [`server`] the connection loop over any tokio stream, and [`values`] builds the graph and
//! temporal structures in each version's encoding.
//!
//! Versions negotiated (see [`handshake::SUPPORTED`]): 5.4, 5.3, 5.2, 5.1, 5.0, 4.4, 4.3, 4.2,
//! 4.1, 4.0. The neo4j Python driver 5.23 proposes 5.0–5.6 and 4.4 (gets 5.4); 6.x drivers
//! also send the handshake manifest v1 marker, which is skipped in favour of their ranged
//! proposals.

pub mod chunk;
pub mod handshake;
pub mod message;
pub mod packstream;
pub mod server;
pub mod session;
pub mod values;
