//! Partition replication (Kafka's ISR protocol). Built in steps: the leader-side rules come
//! first, as a pure state machine tested by tables ([`isr`]); followers' fetchers, acks=all
//! waiting and truncation by leader epoch build on it. The log module stays unaware of it.

pub mod isr;
