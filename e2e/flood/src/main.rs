//! **Test client** for the end-to-end suite (`e2e/tests/worker-garbage.test.mjs`): a peer that
//! speaks the node's transport (TCP, Noise, Yamux via litep2p, as the node does) and floods one of
//! its request-response protocols with requests that do not decode and requests larger than the
//! protocol allows. It prints one JSON line with what it saw: how many requests it sent, how many
//! got a response, how they failed, and whether the node closed the connection.
//!
//! ```text
//! loopx-flood <node multiaddr with /p2p/<peer id>> <protocol name> [requests] [interval ms]
//! ```

use std::{collections::BTreeMap, time::Duration};

use futures::StreamExt;
use litep2p::{
	config::ConfigBuilder,
	protocol::request_response::{ConfigBuilder as RequestResponseConfigBuilder, DialOptions, RequestResponseEvent},
	transport::tcp::config::Config as TcpConfig,
	types::multiaddr::{Multiaddr, Protocol},
	Litep2p, Litep2pEvent, PeerId, ProtocolName,
};

/// What this client lets itself send: far above any LoopX protocol's request limit.
const OWN_MAX_MESSAGE: usize = 1 << 20;
/// The oversized requests' size: above every LoopX protocol's request limit (64 bytes for
/// models and deals), below the client's own limit.
const OVERSIZED: usize = 64 * 1024;

fn usage() -> ! {
	eprintln!("usage: loopx-flood <multiaddr>/p2p/<peer id> <protocol> [requests = 200] [interval ms = 50]");
	std::process::exit(2)
}

/// The `i`-th request: a malformed one (bytes that decode as no request) or, every third, an
/// oversized one.
fn request(i: u32) -> Vec<u8> {
	if i % 3 == 2 {
		vec![0xA5; OVERSIZED]
	} else {
		(0..40u32).map(|k| (k.wrapping_mul(31) ^ i) as u8 | 0x80).collect()
	}
}

#[tokio::main]
async fn main() {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let (Some(address), Some(protocol)) = (args.first(), args.get(1)) else { usage() };
	let requests: u32 = args.get(2).map(|s| s.parse().unwrap_or_else(|_| usage())).unwrap_or(200);
	let interval = Duration::from_millis(args.get(3).map(|s| s.parse().unwrap_or_else(|_| usage())).unwrap_or(50));
	let address: Multiaddr = address.parse().unwrap_or_else(|e| {
		eprintln!("loopx-flood: bad multiaddr {address}: {e}");
		std::process::exit(2)
	});
	let Some(Protocol::P2p(hash)) = address.iter().last() else {
		eprintln!("loopx-flood: the address must end in /p2p/<peer id>");
		std::process::exit(2)
	};
	let node = PeerId::from_multihash(hash).unwrap_or_else(|_| usage());

	let (config, mut handle) = RequestResponseConfigBuilder::new(ProtocolName::from(protocol.clone()))
		.with_max_size(OWN_MAX_MESSAGE)
		.with_timeout(Duration::from_secs(5))
		.build();
	let mut litep2p = Litep2p::new(
		ConfigBuilder::new()
			.with_tcp(TcpConfig { listen_addresses: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("a valid address")], ..Default::default() })
			.with_request_response_protocol(config)
			.build(),
	)
	.unwrap_or_else(|e| {
		eprintln!("loopx-flood: cannot start litep2p: {e}");
		std::process::exit(1)
	});
	let me = *litep2p.local_peer_id();
	litep2p.add_known_address(node, std::iter::once(address.clone()));

	let mut sent = 0u32;
	let mut responses = 0u32;
	let mut failures: BTreeMap<String, u32> = BTreeMap::new();
	let mut connections = 0u32;
	let mut closed = 0u32;
	let mut dial_failures = 0u32;
	let mut tick = tokio::time::interval(interval);
	let deadline = tokio::time::sleep(interval * requests + Duration::from_secs(10));
	tokio::pin!(deadline);
	loop {
		tokio::select! {
			_ = tick.tick(), if sent < requests => {
				if handle.send_request(node, request(sent), DialOptions::Dial).await.is_ok() {
					sent += 1;
				}
			},
			event = handle.next() => match event {
				Some(RequestResponseEvent::ResponseReceived { .. }) => responses += 1,
				Some(RequestResponseEvent::RequestFailed { error, .. }) => *failures.entry(format!("{error:?}")).or_default() += 1,
				Some(RequestResponseEvent::RequestReceived { request_id, .. }) => handle.reject_request(request_id),
				None => break,
			},
			event = litep2p.next_event() => match event {
				Some(Litep2pEvent::ConnectionEstablished { .. }) => connections += 1,
				Some(Litep2pEvent::ConnectionClosed { .. }) => closed += 1,
				Some(Litep2pEvent::DialFailure { .. } | Litep2pEvent::ListDialFailures { .. }) => dial_failures += 1,
				_ => {},
			},
			_ = &mut deadline => break,
		}
	}
	println!(
		"{}",
		serde_json::json!({
			"peer": me.to_string(),
			"sent": sent,
			"responses": responses,
			"failures": failures,
			"connections": connections,
			"closed": closed,
			"dialFailures": dial_failures,
		})
	);
}
