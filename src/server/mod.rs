//! TCP serving: the accept loop and one task per connection.

pub mod connection;
pub mod listener;
pub mod peer;
pub mod session;
