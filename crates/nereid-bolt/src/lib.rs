//! The Bolt wire protocol, as a library with no I/O of its own.
//!
//! Data flows bottom-up: [`handshake`] picks a protocol version from the client's first 20 bytes;
//! [`chunk`] turns the byte stream into whole messages; [`packstream`] decodes a message into a
//! [`packstream::Value`] (a structure); [`message`] turns that structure into a typed
//! [`message::Request`] and encodes [`message::Response`]s. The engine-facing state machine and
//! backend trait are not written yet.

pub mod chunk;
pub mod handshake;
pub mod message;
pub mod packstream;
